BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    if ($HaveSample) { $script:V = Open-Vmcore (Join-Path $SamplesDir 'vmcore.kdump') }
}
AfterAll { if ($V) { $V | Close-Vmcore } }

# The sample's answers come from crash 8.0.6 on it (samples/crash/runq.txt and runs of ps -l, ps -t, sig, timer).
Describe 'Get-CrashRunQueue' -Skip:(-not $HaveSample) {
    It 'gives each CPU its run queue and current task, as crash runq' {
        $q = Get-CrashRunQueue -Vmcore $V
        $q.Count | Should -Be 2
        '{0:x}' -f $q[1].RunQueue | Should -Be 'ffff8cda4f731c40'
        $q[1].CurrentPid | Should -Be 780
        $q[1].CurrentCommand | Should -Be 'kdump-panic'
        '{0:x}' -f $q[1].RtPrioArray | Should -Be 'ffff8cda4f731e80'
        '{0:x}' -f $q[1].CfsRoot | Should -Be 'ffff8cda4f731cf0'
        $q[0].CurrentCommand | Should -Be 'swapper/0'
        Get-CrashRunQueue -Vmcore $V -Queued | Should -BeNullOrEmpty
        (Get-CrashRunQueue -Vmcore $V -Cpu 1).Cpu | Should -Be 1
    }
    It 'reports a CPU that does not exist as CpuNotFound' {
        Get-CrashRunQueue -Vmcore $V -Cpu 7 -ErrorAction SilentlyContinue -ErrorVariable e | Should -BeNullOrEmpty
        $e[0].FullyQualifiedErrorId | Should -BeLike 'CpuNotFound,*'
    }
}

Describe 'Get-CrashProcess scheduler fields' -Skip:(-not $HaveSample) {
    It 'has crash ps -l last_arrival and ps -t start time, utime and stime' {
        $p = Get-CrashProcess -Vmcore $V -Pid 1
        $p.LastArrival | Should -Be 61558434635
        $p.StartTime | Should -Be 408000000
        $p.UserTime | Should -Be 200000000
        $p.SystemTime | Should -Be 4972000000
        $p.Policy | Should -Be 'NORMAL'
        $p.Priority | Should -Be 120
        [int]$p.RunTime.TotalSeconds | Should -Be 61
        (Get-CrashProcess -Vmcore $V | Sort-Object LastArrival -Descending | Select-Object -First 1).Pid | Should -Be 15
    }
}

Describe 'Get-CrashSignal' -Skip:(-not $HaveSample) {
    It 'has the handlers of init, as crash sig' {
        $s = Get-CrashSignal -Vmcore $V -Pid 1
        '{0:x}' -f $s.SignalStruct | Should -Be 'ffff8cda41229f80'
        $s.Threads | Should -Be 1
        $int = $s.Actions | Where-Object Signal -eq 2
        $int.HandlerText | Should -Be '525892'
        '{0:x16}' -f $int.Mask | Should -Be 'fffffffe7ffbfeff'
        $int.FlagNames | Should -Be @('SA_RESTORER')
        ($s.Actions | Where-Object Signal -eq 3).HandlerText | Should -Be 'SIG_IGN'
        $s.Actions.Count | Should -Be 64
        $s.SigPending | Should -BeFalse
    }
    It 'takes tasks from Get-CrashProcess' {
        (Get-CrashProcess -Vmcore $V -Name 'kdump-*' | Get-CrashSignal -Vmcore $V).Count | Should -BeGreaterThan 3
    }
}

Describe 'Get-CrashTimer' -Skip:(-not $HaveSample) {
    It 'lists the timer wheels sorted by expiry, as crash timer' {
        $t = Get-CrashTimer -Vmcore $V -Cpu 0
        $std = $t | Where-Object Base -eq 'BASE_STD'
        '{0:x}' -f $std[0].BaseAddress | Should -Be 'ffff8cda4f620b00'
        $std[0].Expires | Should -Be 4294907702
        $std[0].TimeToExpire | Should -Be 0
        $std[0].FunctionName | Should -Be 'process_timeout'
        ($t | Where-Object Base -eq 'BASE_DEF')[0].TimeToExpire | Should -Be -17
    }
    It 'lists the hrtimers with -HighResolution, as crash timer -r' {
        $h = Get-CrashTimer -Vmcore $V -HighResolution -Cpu 0
        $h[0].FunctionName | Should -Be 'tick_sched_timer'
        $h[0].Expires | Should -Be 61632000000
        $h[0].TimeToExpire | Should -Be 8000000
        $h[0].ClockFunction | Should -Be 'ktime_get'
    }
}
