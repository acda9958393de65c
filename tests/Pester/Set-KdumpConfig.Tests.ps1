BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:ConfigSamples = Join-Path $RepoRoot 'tests/Kdump.Engine.Tests/Config/samples'
    function New-ConfigRoot([string] $Sample) {
        $root = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory $root | Out-Null
        if ($Sample) { Copy-Item -Recurse (Join-Path $ConfigSamples "$Sample/*") $root }
        $root
    }
    function Get-TreeHash([string] $Root) {
        Get-ChildItem -Recurse -File $Root | Sort-Object FullName | ForEach-Object { "$($_.FullName) $((Get-FileHash $_.FullName).Hash)" }
    }
}

Describe 'Set-KdumpConfig' {
    Context 'Editing kdump.conf' {
        It 'changes the path line and returns the change' {
            $root = New-ConfigRoot 'rhel6'
            $c = Set-KdumpConfig -Root $root -Path /var/crash2 -Confirm:$false -Force
            $c | Should -HaveCount 1
            $c | Should -BeOfType ([Kdump.Engine.Config.KdumpConfigChange])
            $c.Line | Should -Be 21
            $c.Old | Should -Be 'path /var/crash'
            $c.New | Should -Be 'path /var/crash2'
            Test-Path (Join-Path $root 'etc/kdump.conf.bak') | Should -BeTrue
            (Get-KdumpConfig -Root $root).Path | Should -Be '/var/crash2'
        }
        It 'sets compression by name with tab-completable values' {
            $root = New-ConfigRoot 'rhel9'
            (Set-KdumpConfig -Root $root -Compression zlib -DumpLevel 17 -Confirm:$false).New | Should -Be 'core_collector makedumpfile -c --message-level 7 -d 17'
            (Get-Command Set-KdumpConfig).Parameters['Compression'].Attributes.ValidValues | Should -Be @('none', 'zlib', 'lzo', 'snappy', 'zstd')
        }
        It 'is idempotent and says so with -Verbose' {
            $root = New-ConfigRoot 'rhel9'
            Set-KdumpConfig -Root $root -FinalAction poweroff -Confirm:$false | Should -HaveCount 1
            $before = Get-TreeHash $root
            $out = Set-KdumpConfig -Root $root -FinalAction poweroff -Confirm:$false -Verbose 4>&1
            @($out | Where-Object { $_ -is [Kdump.Engine.Config.KdumpConfigChange] }) | Should -HaveCount 0
            ($out | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }).Message | Should -Match 'nothing to change'
            Get-TreeHash $root | Should -Be $before
        }
    }

    Context '-WhatIf' {
        It 'writes nothing and outputs nothing' {
            $root = New-ConfigRoot 'rhel9'
            $before = Get-TreeHash $root
            $r = Set-KdumpConfig -Root $root -CrashKernel 512M -Path /srv -WhatIf
            $r | Should -BeNullOrEmpty
            Get-TreeHash $root | Should -Be $before
        }
    }

    Context 'crashkernel' {
        It 'changes every BLS entry and GRUB_CMDLINE_LINUX' {
            $root = New-ConfigRoot 'rhel9'
            $c = Set-KdumpConfig -Root $root -CrashKernel '2G-64G:256M,64G-:512M' -Confirm:$false
            $c | Should -HaveCount 4
            Get-KdumpConfig -Root $root -BootEntry | ForEach-Object { $_.CrashKernel.Value | Should -Be '2G-64G:256M,64G-:512M' }
        }
        It 'limits the change with -Kernel' {
            $root = New-ConfigRoot 'rhel9'
            $c = Set-KdumpConfig -Root $root -CrashKernel 512M -Kernel '5.14.0-284*' -Confirm:$false
            $c | Should -HaveCount 1
            $c.File | Should -BeLike '*5.14.0-284.11.1.el9_2.x86_64.conf'
        }
    }

    Context 'Issue 12: typing and reading at the console' {
        It 'accepts crashkernel ranges without quotes (pwsh passes them as an array)' {
            $root = New-ConfigRoot 'rhel9'
            $c = Set-KdumpConfig -Root $root -CrashKernel 2G-64G:256M,64G-:512M -Confirm:$false
            $c | Should -HaveCount 4
            Get-KdumpConfig -Root $root -BootEntry | Where-Object Name -notlike '*rescue*' |
                ForEach-Object { $_.CrashKernel.Value | Should -Be '2G-64G:256M,64G-:512M' }
        }
        It 'shows the old and new crashkernel= values within 80 columns' {
            $root = New-ConfigRoot 'rhel9'
            $text = Set-KdumpConfig -Root $root -CrashKernel 512M -Confirm:$false | Out-String -Width 80
            $lines = $text -split "`r?`n"
            $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
            ($lines | Where-Object { $_ -match '^\s+- .*crashkernel=1G-4G:192M,4G-64G:256M,64G-:512M' }) | Should -HaveCount 3
            ($lines | Where-Object { $_ -match '^\s+\+ .*crashkernel=512M' }) | Should -HaveCount 4
        }
        It 'completes -Kernel with the kernels of the root' {
            $root = New-ConfigRoot 'rhel9'
            $m = (TabExpansion2 -inputScript "Set-KdumpConfig -Root '$root' -Kernel 5.14.0-2").CompletionMatches
            $m.CompletionText | Should -Contain '5.14.0-284.11.1.el9_2.x86_64'
            $m.CompletionText | Should -Not -Contain '5.14.0-362.8.1.el9_3.x86_64'
            $all = (TabExpansion2 -inputScript "Set-KdumpConfig -Root '$root' -Kernel ").CompletionMatches.CompletionText
            $all | Should -Contain '4a1c3d2e5f60718293a4b5c6d7e8f901-5.14.0-362.8.1.el9_3.x86_64'
        }
    }

    Context 'Issue 10: links, atomicity, backups' {
        It 'refuses to write through a directory link leading out of the root' {
            $outside = New-ConfigRoot 'rhel9'
            $root = New-ConfigRoot 'rhel9'
            Remove-Item -Recurse (Join-Path $root 'etc/default')
            New-Item -ItemType SymbolicLink -Path (Join-Path $root 'etc/default') -Target (Join-Path $outside 'etc/default') | Out-Null
            $before = Get-TreeHash $outside
            Set-KdumpConfig -Root $root -CrashKernel 512M -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'ConfigLinkOutsideRoot,*'
            $err[0].CategoryInfo.Category | Should -Be 'PermissionDenied'
            $err[0].TargetObject | Should -Be (Join-Path $root 'etc/default')
            Get-TreeHash $outside | Should -Be $before
        }
        It 'keeps the first original as .bak and timestamps later backups' {
            $root = New-ConfigRoot 'rhel9'
            $conf = Join-Path $root 'etc/kdump.conf'
            $original = Get-Content -Raw $conf
            Set-KdumpConfig -Root $root -FinalAction halt -Confirm:$false | Out-Null
            Set-KdumpConfig -Root $root -FinalAction poweroff -Confirm:$false | Out-Null
            Get-Content -Raw "$conf.bak" | Should -Be $original
            $stamped = @(Get-ChildItem -Path "$conf.bak.*")
            $stamped | Should -HaveCount 1
            $stamped[0].Name | Should -Match '^kdump\.conf\.bak\.\d{14}$'
            Get-Content -Raw $stamped[0].FullName | Should -Match 'final_action halt'
        }
    }

    Context 'Errors' -ForEach @(
        @{ Case = 'a deprecated directive stays'; Sample = 'rhel9'; Extra = "net my.server.com:/export`n"; Params = @{ FinalAction = 'halt' }; Id = 'KdumpConfigInvalid'; Category = 'InvalidData' }
        @{ Case = 'no entry matches -Kernel'; Sample = 'rhel9'; Extra = ''; Params = @{ CrashKernel = '256M'; Kernel = 'nomatch' }; Id = 'KernelEntryNotFound'; Category = 'ObjectNotFound' }
        @{ Case = 'crashkernel is malformed'; Sample = 'rhel9'; Extra = ''; Params = @{ CrashKernel = '256X' }; Id = 'CrashKernelInvalid'; Category = 'InvalidArgument' }
        @{ Case = 'kdump-tools has no final action'; Sample = 'debian'; Extra = ''; Params = @{ FinalAction = 'halt' }; Id = 'SettingNotSupported'; Category = 'NotImplemented' }
        @{ Case = 'there is no configuration'; Sample = ''; Extra = ''; Params = @{ Path = '/var/crash' }; Id = 'KdumpConfigNotFound'; Category = 'ObjectNotFound' }
    ) {
        It 'reports <Id> when <Case> and writes nothing' {
            $root = New-ConfigRoot $Sample
            if ($Extra) { Add-Content -Path (Join-Path $root 'etc/kdump.conf') -Value $Extra -NoNewline }
            $before = Get-TreeHash $root
            $r = Set-KdumpConfig -Root $root @Params -Confirm:$false -ErrorVariable err -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $err | Should -HaveCount 1
            $err[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
            $err[0].CategoryInfo.Category | Should -Be $Category
            Get-TreeHash $root | Should -Be $before
        }
    }

    Context 'Parameter validation' {
        It 'rejects an unknown compression' {
            { Set-KdumpConfig -Root $TestDrive -Compression gzip } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Kdump.PowerShell.Commands.SetKdumpConfigCommand'
        }
        It 'rejects a dump level over 31' {
            { Set-KdumpConfig -Root $TestDrive -DumpLevel 32 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,Kdump.PowerShell.Commands.SetKdumpConfigCommand'
        }
        It 'forces a refused change with -Force' {
            $root = New-ConfigRoot 'rhel9'
            Add-Content -Path (Join-Path $root 'etc/kdump.conf') -Value 'link_delay 60'
            (Set-KdumpConfig -Root $root -FinalAction halt -Force -Confirm:$false).New | Should -Be 'final_action halt'
        }
    }
}
