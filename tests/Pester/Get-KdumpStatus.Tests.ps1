BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    function New-ProcRoot([string] $Cmdline, [string] $CrashSize, [string] $Loaded) {
        $root = Join-Path $TestDrive ([guid]::NewGuid().ToString('N'))
        New-Item -ItemType Directory (Join-Path $root 'proc'), (Join-Path $root 'sys/kernel') -Force | Out-Null
        Set-Content (Join-Path $root 'proc/cmdline') $Cmdline
        Set-Content (Join-Path $root 'proc/iomem') "00100000-bffdffff : System RAM`n  a5000000-b4ffffff : Crash kernel"
        if ($CrashSize) { Set-Content (Join-Path $root 'sys/kernel/kexec_crash_size') $CrashSize }
        if ($Loaded) { Set-Content (Join-Path $root 'sys/kernel/kexec_crash_loaded') $Loaded }
        $root
    }
}

Describe 'Get-KdumpStatus' {
    It 'is operational when a crash kernel is loaded into reserved memory' {
        $s = Get-KdumpStatus -Root (New-ProcRoot 'ro crashkernel=256M quiet' '268435456' '1')
        $s | Should -BeOfType ([Kdump.Engine.Config.KdumpStatus])
        $s.Operational | Should -BeTrue
        $s.ReservedBytes | Should -Be 256MB
        $s.ReservedRegions[0].Start | Should -Be ([uint64]2768240640)
        $s.Reasons | Should -BeNullOrEmpty
    }
    It 'is not operational with nothing loaded, and says why' {
        $s = Get-KdumpStatus -Root (New-ProcRoot 'ro quiet' '0' '0')
        $s.Operational | Should -BeFalse
        $s.Reasons | Should -Contain 'The running kernel was booted without crashkernel= on its command line (/proc/cmdline).'
        ($s | Out-String) | Should -Match 'Operational\s+: False'
    }
    It 'reports this machine honestly' {
        $s = Get-KdumpStatus
        $loaded = (Test-Path /sys/kernel/kexec_crash_loaded) -and ((Get-Content /sys/kernel/kexec_crash_loaded) -eq '1')
        $s.Operational | Should -Be $loaded
        if (-not $s.Operational) { $s.Reasons | Should -Not -BeNullOrEmpty }
    }
}
