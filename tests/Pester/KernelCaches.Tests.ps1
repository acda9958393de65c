BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Sample = Join-Path $SamplesDir 'vmcore.kdump'
}

# Issue 10 item 2: what a dump's program derives (the task table, modules, layouts) is kept per program, so the
# answer never depends on which cmdlet asked first, and two dumps open at once never share one.
Describe 'Per-dump caches' -Skip:(-not $HaveSample) {
    Context 'a cmdlet that lists tasks for itself runs first' {
        It 'Get-CrashIpc; Get-CrashProcess -Pid 1 | Get-CrashVm binds each process to its dump' {
            $v = Open-Vmcore $Sample -Force
            try {
                $null = Get-CrashIpc
                $vm = $null
                { $script:vm = Get-CrashProcess -Pid 1 | Get-CrashVm -ErrorAction Stop } | Should -Not -Throw
                $script:vm.Pid | Should -Be 1
                @($script:vm.Areas).Count | Should -BeGreaterThan 0
            }
            finally { $v | Close-Vmcore }
        }
        It 'Get-CrashSystem first, then Get-CrashProcess | Get-CrashFile' {
            $v = Open-Vmcore $Sample -Force
            try {
                $null = Get-CrashSystem
                $files = $null
                { $script:files = Get-CrashProcess -Pid 1 | Get-CrashFile -ErrorAction Stop } | Should -Not -Throw
                @($script:files).Count | Should -BeGreaterThan 0
            }
            finally { $v | Close-Vmcore }
        }
    }
    Context 'two dumps open at once' {
        It 'pipes each dump''s processes to Get-CrashVm against that dump' {
            $a = Open-Vmcore $Sample -Force
            $b = Open-Vmcore $Sample -Force
            try {
                [object]::ReferenceEquals($a, $b) | Should -BeFalse
                $null = Get-CrashIpc -Vmcore $a
                $pa = Get-CrashProcess -Vmcore $a -Pid 1
                $pb = Get-CrashProcess -Vmcore $b -Pid 1
                $va = $pa | Get-CrashVm -ErrorAction Stop
                $vb = $pb | Get-CrashVm -ErrorAction Stop
                $va.Pid | Should -Be 1
                $vb.Pid | Should -Be 1
                @($va.Areas).Count | Should -Be @($vb.Areas).Count
                @(Get-CrashProcess -Vmcore $a).Count | Should -Be @(Get-CrashProcess -Vmcore $b).Count
            }
            finally { $a, $b | Close-Vmcore }
        }
    }
}
