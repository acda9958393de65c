BeforeDiscovery { . (Join-Path $PSScriptRoot 'common.ps1') }
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}
AfterAll { Get-Vmcore | Close-Vmcore }

Describe 'Get-CrashBacktrace' {
    Context 'the committed sample dump' -Skip:(-not $HaveSample) {
        BeforeAll {
            $script:M = Get-TestManifest $SamplesDir
            $script:V = Open-Vmcore -Path @($M.dumps[0].files | ForEach-Object { Join-Path $SamplesDir $_ })
        }
        AfterAll { $V | Close-Vmcore }

        It 'traces the panic task down to the write system call' {
            $bt = Get-CrashBacktrace
            $bt.Pid | Should -Be $M.truth.panic.pid
            $bt.Command | Should -Be $M.truth.panic.comm
            $names = $bt.Frames.Function
            $names[-9..-1] | Should -Be @('panic', 'sysrq_handle_crash', '__handle_sysrq.cold', 'write_sysrq_trigger', 'proc_reg_write', 'vfs_write', 'ksys_write', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe')
            ($bt | Out-String) | Should -Match '#2 \[ffffd29480e2fb70\] panic at ffffffffaf001e27'
        }
        It '-All gives one trace per CPU' {
            $all = @(Get-CrashBacktrace -All)
            $all.Count | Should -Be $M.truth.cpus
            $all.Cpu | Should -Be @(0, 1)
        }
        It 'takes -Pid and piped objects by property name' {
            $pid112 = Get-CrashBacktrace -Pid $M.truth.workload.threads
            $pid112.Frames[0].Function | Should -Be '__schedule'
            $piped = [pscustomobject]@{ Task = $pid112.Task } | Get-CrashBacktrace
            $piped.Pid | Should -Be $pid112.Pid
        }
        It 'reports an unknown pid as TaskNotFound' {
            Get-CrashBacktrace -Pid 99999 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err.Count | Should -Be 1
            $err[0].FullyQualifiedErrorId | Should -BeLike 'TaskNotFound,*'
        }
    }

    Context 'every fixture kernel (6.1, 6.12, 7.x)' -Skip:(-not $HaveFixtures) {
        It 'traces every task of each kernel''s crash-reference dump without a warning, user tasks down to their user registers' {
            $kernels = 0
            foreach ($fx in $FixturesDirs) {
                $FM = Get-TestManifest $fx
                $v = Open-Vmcore -Path (Get-CrashReferenceDumpFiles $fx $FM)
                try {
                    $procs = @(Get-CrashProcess -Vmcore $v)
                    $traces = @($procs | Get-CrashBacktrace -Vmcore $v)
                    $traces.Count | Should -Be $procs.Count -Because $fx
                    @($traces | Where-Object { $_.Warnings.Count -gt 0 } | ForEach-Object { "$($_.Pid): $($_.Warnings -join '; ')" }) | Should -BeNullOrEmpty -Because $fx
                    $user = @($procs | Where-Object { $_.Pid -gt 0 -and $_.Vsz -gt 0 })
                    $user.Count | Should -BeGreaterThan 5 -Because $fx
                    foreach ($p in $user) {
                        $last = @($traces | Where-Object Task -EQ $p.Task)[0].Frames[-1]
                        $last.Registers['cs'] -band 3 | Should -Be 3 -Because "$fx pid $($p.Pid) ends at $($last.Location)"
                    }
                    $panic = Get-CrashBacktrace -Vmcore $v
                    $panic.Pid | Should -Be $FM.truth.panic.pid -Because $fx
                    $names = @($panic.Frames.Function)
                    $at = [array]::IndexOf($names, 'sysrq_handle_crash')
                    $at | Should -BeGreaterThan 0 -Because $fx
                    $names[($at + 2)..($names.Count - 1)] | Should -Be @('write_sysrq_trigger', 'proc_reg_write', 'vfs_write', 'ksys_write', 'do_syscall_64', 'entry_SYSCALL_64_after_hwframe') -Because $fx
                    $kernels++
                }
                finally { $v | Close-Vmcore }
            }
            $kernels | Should -Be @($FixturesDirs).Count
        }
    }
}

Describe 'Get-CrashModule' {
    Context 'the committed sample dump' -Skip:(-not $HaveSample) {
        BeforeAll {
            $script:M = Get-TestManifest $SamplesDir
            $script:V = Open-Vmcore -Path @($M.dumps[0].files | ForEach-Object { Join-Path $SamplesDir $_ })
        }
        AfterAll { $V | Close-Vmcore }

        It 'lists the manifest''s modules with their bases and sizes' {
            $mods = @(Get-CrashModule)
            $mods.Count | Should -Be $M.truth.modules.Count
            foreach ($t in $M.truth.modules) {
                $m = $mods | Where-Object Name -eq $t.name
                $m.Base | Should -Be ([Convert]::ToUInt64($t.address, 16))
                $m.Size | Should -Be $t.size
            }
        }
        It 'filters by name with -/_ equivalence and finds .ko files' {
            $dir = Join-Path ([IO.Path]::GetTempPath()) "kdump-pester-mod-$([guid]::NewGuid().ToString('N'))"
            New-Item -ItemType Directory (Join-Path $dir 'kernel/misc') -Force | Out-Null
            Set-Content (Join-Path $dir 'kernel/misc/pvpanic-pci.ko.xz') ''
            try {
                $m = Get-CrashModule -Name 'pvpanic-pci' -ModulePath $dir
                $m.Name | Should -Be 'pvpanic_pci'
                $m.File | Should -BeLike '*pvpanic-pci.ko.xz'
            }
            finally { Remove-Item $dir -Recurse -Force }
        }
        It 'reports a missing module and a missing directory' {
            Get-CrashModule -Name nosuchmod -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
            $err[0].FullyQualifiedErrorId | Should -BeLike 'ModuleNotFound,*'
            { Get-CrashModule -ModulePath /nonexistent/dir -ErrorAction Stop } | Should -Throw -ErrorId 'ModulePathNotFound,*'
        }
    }
}
