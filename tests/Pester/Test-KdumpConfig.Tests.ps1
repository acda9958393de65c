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
        It 'accepts the root from Get-KdumpConfig through the pipeline' {
            $root = New-ConfigRoot 'rhel6'
            @(Get-KdumpConfig -Root $root | Test-KdumpConfig -MemorySize 4GB | Where-Object RuleId -eq 'CrashKernelAuto') | Should -HaveCount 2
        }
        It 'formats findings in a table' {
            Test-KdumpConfig -Root (New-ConfigRoot 'rhel6') -MemorySize 4GB | Out-String | Should -Match 'CrashKernelAuto\s+grub.conf:16'
        }
    }
}
