# Tab completion (issue 12.7): every completer answers from the open dump, quote-aware, through TabExpansion2.
BeforeDiscovery { . (Join-Path $PSScriptRoot 'common.ps1') }
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    function Complete([string] $Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches)
    }
}

Describe 'Argument completion' -Skip:(-not $HaveSample) {
    BeforeAll { $script:V = Open-Vmcore (Join-Path $SamplesDir 'vmcore.kdump') -Force }
    AfterAll { $V | Close-Vmcore }

    It '<Line> offers <Expected>' -TestCases @(
        @{ Line = 'Get-CrashBacktrace -Pid 1'; Expected = '1' }
        @{ Line = 'Read-CrashMemory -Symbol linux_ba'; Expected = 'linux_banner' }
        @{ Line = 'Get-CrashSymbol -Name jiffies_6'; Expected = 'jiffies_64' }
        @{ Line = 'Get-CrashObject -Type task_st'; Expected = 'task_struct' }
        @{ Line = 'Get-CrashType -Name mm_str'; Expected = 'mm_struct' }
        @{ Line = "Get-CrashObject -Type 'struct task_st"; Expected = "'struct task_struct'" }
        @{ Line = 'Get-CrashObject -Type task_struct -Member pi'; Expected = 'pid' }
        @{ Line = 'Get-CrashObject -Type task_struct -Member tasks.n'; Expected = 'tasks.next' }
        @{ Line = 'Get-CrashObject -Variable init_ta'; Expected = 'init_task' }
        @{ Line = 'Get-CrashProcess -Vmcore vmcore.k'; Expected = 'vmcore.kdump' }
        @{ Line = 'Get-CrashModule -Name virtio_b'; Expected = 'virtio_blk' }
        @{ Line = 'Get-CrashIrq -Irq '; Expected = '1' }
        @{ Line = 'Get-CrashIrq -Cpu '; Expected = '0' }
        @{ Line = "Get-CrashProcess -Name 'kworker/0:0"; Expected = "'kworker/0:0'" }
        @{ Line = 'Get-CrashProcess -Name swapper/'; Expected = 'swapper/0' }
        @{ Line = 'Get-CrashRunQueue -Cpu '; Expected = '1' }
        @{ Line = 'Get-CrashTimer -Cpu '; Expected = '0' }
        @{ Line = 'Get-CrashSignal -Pid 1'; Expected = '1' }
        @{ Line = 'Get-CrashTriage -Vmcore vmcore.k'; Expected = 'vmcore.kdump' }
    ) {
        $m = Complete $Line
        $m.CompletionText | Should -Contain $Expected
    }
    It 'the -Vmcore already typed decides what is completed' {
        $m = Complete "Get-CrashProcess -Vmcore $($V.Id) -Pid 1"
        $m.CompletionText | Should -Contain '1'
        @(Complete 'Get-CrashProcess -Vmcore nosuch.kdump -Pid 1').Count | Should -Be 0
    }
    It 'never throws and caps the list' {
        @(Complete 'Read-CrashMemory -Symbol ').Count | Should -BeLessOrEqual 500
        { Complete 'Get-CrashObject -Type nosuch_type -Member ' } | Should -Not -Throw
    }
}
