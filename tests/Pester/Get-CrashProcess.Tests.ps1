BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Sample = Join-Path $SamplesDir 'vmcore.kdump'
    # crash's ps rows: marker, pid, ppid, cpu, task, state, %mem, vsz, rss, comm
    $script:CrashPs = Get-Content (Join-Path $SamplesDir 'crash/ps.txt') | Select-Object -Skip 1 | ForEach-Object {
        if ($_ -match '^(>?)\s*(\d+)\s+(\d+)\s+(\d+)\s+([0-9a-f]+)\s+(\S\S)\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(.*)$') {
            [pscustomobject]@{ Active = $Matches[1] -eq '>'; Pid = [int]$Matches[2]; Task = $Matches[5]; State = $Matches[6]; Comm = $Matches[10].Trim() }
        }
    }
}
AfterAll { Get-Vmcore | Close-Vmcore }

Describe 'Get-CrashProcess, Get-CrashFile, Get-CrashVm, Get-CrashSystem' -Skip:(-not $HaveSample) {
    BeforeAll { $script:V = Open-Vmcore -Path $Sample }

    It 'lists every task crash lists, in the same order' {
        $ps = Get-CrashProcess
        $ps.Count | Should -Be $CrashPs.Count
        ($ps | ForEach-Object { '{0:x16}' -f $_.Task }) -join ',' | Should -Be (($CrashPs | ForEach-Object Task) -join ',')
        ($ps | Where-Object IsActive | ForEach-Object Pid) -join ',' | Should -Be (($CrashPs | Where-Object Active | ForEach-Object Pid) -join ',')
    }

    It 'renders crash''s columns with the active marker' {
        $text = Get-CrashProcess -Pid 780 | Out-String -Width 200
        $text | Should -Match '>\s+780\s+1\s+1\s+ffff8cda42d53080\s+RU\s+0\.3\s+1080\s+760\s+kdump-panic'
        (Get-CrashProcess -Pid 2 | Out-String) | Should -Match '\[kthreadd\]'
    }

    It 'filters by name wildcard, state, kind and activity' {
        (Get-CrashProcess -Name 'kd-worker-*').Pid | Should -Be @(121, 122, 123)
        (Get-CrashProcess -KernelThread | Where-Object { -not $_.IsKernelThread }) | Should -BeNullOrEmpty
        (Get-CrashProcess -UserSpace).Command | Should -Contain 'kdump-hog'
        (Get-CrashProcess -State ID).State | Sort-Object -Unique | Should -Be 'ID'
        (Get-CrashProcess -Active).Command | Should -Be @('swapper/0', 'kdump-panic')
        (Get-CrashProcess -Pid 0).Count | Should -Be 2
    }

    It 'shows ancestry and children' {
        (Get-CrashProcess -Pid 120 -Parents).Pid | Should -Be @(0, 1, 113, 118, 120)
        (Get-CrashProcess -Name kdump-parent -Children).Command | Should -Be @('kdump-child-1', 'kdump-child-2')
    }

    It 'pipes processes to Get-CrashFile by property name' {
        $socks = Get-CrashProcess -Name 'kdump-files' | Get-CrashFile | Where-Object Type -eq SOCK
        $socks.Fd | Should -Be @(7, 8, 9, 10, 11)
        $socks.Path | Should -Be @('socket:[10825]', 'socket:[10826]', 'socket:[10827]', 'socket:[10828]', 'socket:[10829]')
        ($socks | Where-Object Fd -eq 10).Protocol | Should -Be 'TCP'
        (Get-CrashFile -Pid 114 | Where-Object Fd -eq 12).Path | Should -Be 'anon_inode:[eventfd]'
        (Get-CrashFile -Pid 114 | Where-Object Fd -eq 5).Path | Should -Be 'pipe:[10824]'
        (Get-CrashFile -Pid 2 -ByTask).Files.Count | Should -Be 0
        (Get-CrashFile -Pid 114 | Out-String -Width 200) | Should -Match 'PID: 114\s+TASK: ffff8cda42c1c8c0'
    }

    It 'pipes processes to Get-CrashVm' {
        $vm = Get-CrashProcess -Pid 1 | Get-CrashVm
        '{0:x}' -f $vm.Mm | Should -Be 'ffff8cda41061200'
        $vm.Areas.Count | Should -Be 10
        $vm.Areas[0].File | Should -Be '/bin/busybox'
        $vm.Areas[0].Permissions | Should -Be 'r--p'
        (Get-CrashVm -Pid 2).Areas.Count | Should -Be 0
        ($vm | Out-String -Width 200) | Should -Match 'ffff8cda4260ea18\s+400000\s+401000\s+8000071 /bin/busybox'
    }

    It 'summarises the system like crash''s sys' {
        $s = Get-CrashSystem
        $s.Tasks | Should -Be 67
        $s.Panic | Should -Be 'Kernel panic - not syncing: sysrq triggered crash'
        $s.PanicTask.Pid | Should -Be 780
        $s.LoadAverageText | Should -Be '0.75, 0.23, 0.08'
        ($s | Out-String) | Should -Match 'CPUS: 2 \[OFFLINE: 1\]'
    }

    It 'reports unknown pids as per-item errors and goes on' {
        $out = Get-CrashProcess -Pid 4242, 1 -ErrorVariable errs -ErrorAction SilentlyContinue
        $out.Pid | Should -Be 1
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'TaskNotFound*'
        Get-CrashFile -Pid 4242, 114 -ErrorVariable errs2 -ErrorAction SilentlyContinue | Should -Not -BeNullOrEmpty
        $errs2[0].FullyQualifiedErrorId | Should -BeLike 'TaskNotFound*'
    }

    It 'completes -Pid and -Name from the open dump' {
        $line = 'Get-CrashProcess -Name kdump-f'
        $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $r.CompletionMatches.CompletionText | Should -Contain 'kdump-files'
        $line = 'Get-CrashVm -Pid 12'
        $r = TabExpansion2 -inputScript $line -cursorColumn $line.Length
        $r.CompletionMatches.CompletionText | Should -Contain '127'
    }
}
