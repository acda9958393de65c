BeforeDiscovery {
    # -Skip conditions are evaluated while Pester discovers the tests, before BeforeAll runs.
    . (Join-Path $PSScriptRoot 'common.ps1')
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    if ($HaveSample) {
        $script:V = Open-Vmcore (Join-Path $SamplesDir 'vmcore.kdump')
        # PID 1 (task ffff8cda41216100, from crash's ps) sleeps in wait4() on its signal->wait_chldexit
        $script:Signal = (Get-CrashObject -Type 'struct task_struct' -Address ffff8cda41216100 -Member signal).Members[0].Value
        $script:Head = $Signal + ((Get-CrashType signal_struct).Members | Where-Object Name -eq 'wait_chldexit').Offset
    }
}
AfterAll { if ($V) { $V | Close-Vmcore } }

Describe 'Get-CrashWaitQueue' -Skip:(-not $HaveSample) {
    It 'finds the waiting task by struct.member and by address' {
        $a = Get-CrashWaitQueue -Type signal_struct -Member wait_chldexit -Address $Signal
        $a.Pid | Should -Be 1
        $a.Command | Should -Be 'init'
        $a.Task | Should -Be ([uint64]'0xffff8cda41216100')
        $a.Function | Should -Be 'child_wait_callback'
        (Get-CrashWaitQueue $Head).Pid | Should -Be 1
        (Get-CrashWaitQueue $Head | Out-String) | Should -Match '\s1 ffff8cda41216100\s+\d init'
    }
    It 'says an empty queue is empty' {
        $r = Get-CrashWaitQueue -Symbol log_wait -InformationVariable info
        $r | Should -BeNullOrEmpty
        "$info" | Should -Be 'wait queue "log_wait" is empty'
    }
    It 'reports bad input as <Id>' -TestCases @(
        @{ Call = { Get-CrashWaitQueue -Symbol no_such_queue_xyz -ErrorAction SilentlyContinue -ErrorVariable e; $e }; Id = 'SymbolNotFound' }
        @{ Call = { Get-CrashWaitQueue -Type signal_struct -Member nr_threads -Address $Signal -ErrorAction SilentlyContinue -ErrorVariable e; $e }; Id = 'MemberNotWaitQueue' }
        @{ Call = { Get-CrashWaitQueue 0x10 -ErrorAction SilentlyContinue -ErrorVariable e; $e }; Id = 'AddressNotMapped' }
    ) {
        $e = & $Call
        $e.Count | Should -Be 1
        $e[0].FullyQualifiedErrorId | Should -BeLike "$Id,*"
    }
}
