BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:ConfigSamples = Join-Path $RepoRoot 'tests/Kdump.Engine.Tests/Config/samples'
    function New-ConfigRoot([string] $Sample) {
        $root = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory $root | Out-Null
        if ($Sample) { Copy-Item -Recurse (Join-Path $ConfigSamples "$Sample/*") $root }
        New-Item -ItemType Directory (Join-Path $root 'var/crash') -Force | Out-Null
        $root
    }
}

Describe 'Test-KdumpConfig' {
    Context 'Rules' -ForEach @(
        @{ Line = 'net my.server.com:/export/tmp'; Rule = 'DeprecatedDirective'; Severity = 'Error' }
        @{ Line = 'default shell'; Rule = 'ObsoleteDirective'; Severity = 'Warning' }
        @{ Line = 'nfs nas:/export'; Rule = 'MultipleTargets'; Severity = 'Error'; Target = 'xfs LABEL=crash' }
        @{ Line = 'path /var/crash'; Rule = 'DuplicateDirective'; Severity = 'Error' }
        @{ Line = 'frobnicate 1'; Rule = 'UnknownDirective'; Severity = 'Error' }
    ) {
        It 'reports <Rule> as <Severity>' {
            $root = New-ConfigRoot 'rhel9'
            $conf = Join-Path $root 'etc/kdump.conf'
            if ($Target) { Add-Content $conf $Target }
            Add-Content $conf $Line
            $f = @(Test-KdumpConfig -Root $root -MemorySize 8GB | Where-Object RuleId -eq $Rule)
            $f | Should -HaveCount 1
            $f[0] | Should -BeOfType ([Kdump.Engine.Config.KdumpConfigFinding])
            $f[0].Severity | Should -Be $Severity
            $f[0].File | Should -Be $conf
            $f[0].Line | Should -Be ((Get-Content $conf).Count)
            $f[0].Message | Should -Not -BeNullOrEmpty
        }
    }

    Context 'Samples' {
        It 'flags crashkernel=auto on the seed RHEL 6 host' {
            $f = Test-KdumpConfig -Root (New-ConfigRoot 'rhel6') -MemorySize 4GB
            @($f | Where-Object RuleId -eq 'CrashKernelAuto') | Should -HaveCount 2
        }
        It 'flags a small reservation against the RAM given' {
            $f = Test-KdumpConfig -Root (New-ConfigRoot 'debian') -MemorySize 16GB
            ($f | Where-Object RuleId -eq 'CrashKernelTooSmall').SuggestedFix | Should -Match '2G-64G:256M'
        }
        It 'passes -Quiet on Debian''s shipped configuration' {
            Test-KdumpConfig -Root (New-ConfigRoot 'debian') -MemorySize 1GB -Quiet | Should -BeTrue
        }
        It 'fails -Quiet when there is an error' {
            $root = New-ConfigRoot 'rhel9'
            Add-Content (Join-Path $root 'etc/kdump.conf') 'force_rebuild 1', 'force_no_rebuild 1'
            Test-KdumpConfig -Root $root -Quiet | Should -BeFalse
        }
        It 'fails -Quiet when no crashkernel= is configured anywhere' {
            $root = New-ConfigRoot 'rhel9'
            foreach ($f in Get-ChildItem -Recurse -File (Join-Path $root 'boot'), (Join-Path $root 'etc/default')) {
                (Get-Content -Raw $f.FullName) -replace 'crashkernel=\S+ ?', '' | Set-Content -NoNewline $f.FullName
            }
            Test-KdumpConfig -Root $root -MemorySize 8GB -Quiet | Should -BeFalse
            $f = Test-KdumpConfig -Root $root -MemorySize 8GB | Where-Object RuleId -eq 'CrashKernelMissing'
            $f.Severity | Should -Be 'Error'
        }
        It 'reports grub defaults and BLS entries disagreeing on crashkernel=' {
            $root = New-ConfigRoot 'rhel9'
            $grub = Join-Path $root 'etc/default/grub'
            (Get-Content -Raw $grub) -replace 'crashkernel=\S+', 'crashkernel=512M' | Set-Content -NoNewline $grub
            @(Test-KdumpConfig -Root $root -MemorySize 8GB | Where-Object RuleId -eq 'CrashKernelMismatch') | Should -HaveCount 2
        }
        It 'reports a dangling link by name' {
            $root = New-ConfigRoot 'rhel9'
            New-Item -ItemType SymbolicLink -Path (Join-Path $root 'boot/loader/entries/x.conf') -Target 'missing.conf' | Out-Null
            Test-KdumpConfig -Root $root -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'ConfigLinkDangling,*'
            $err[0].TargetObject | Should -Be (Join-Path $root 'boot/loader/entries/x.conf')
        }
        It 'shows whole messages and fixes within 80 columns' {
            $root = New-ConfigRoot 'rhel6'
            $findings = Test-KdumpConfig -Root $root -MemorySize 4GB
            $text = $findings | Out-String -Width 80
            $lines = $text -split "`r?`n"
            $lines | ForEach-Object { $_.Length | Should -BeLessOrEqual 80 }
            $flat = ($lines | ForEach-Object Trim) -join ' '
            foreach ($f in $findings) {
                $flat | Should -BeLike "*$([WildcardPattern]::Escape($f.Message))*"
                if ($f.SuggestedFix) { $flat | Should -BeLike "*Fix: $([WildcardPattern]::Escape($f.SuggestedFix))*" }
            }
        }
        It 'accepts the root from Get-KdumpConfig through the pipeline' {
            $root = New-ConfigRoot 'rhel6'
            @(Get-KdumpConfig -Root $root | Test-KdumpConfig -MemorySize 4GB | Where-Object RuleId -eq 'CrashKernelAuto') | Should -HaveCount 2
        }
        It 'formats findings in a table' {
            Test-KdumpConfig -Root (New-ConfigRoot 'rhel6') -MemorySize 4GB | Out-String | Should -Match 'CrashKernelAuto\s+grub.conf:16'
        }
    }
}
