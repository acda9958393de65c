BeforeDiscovery {
    # -Skip conditions are evaluated while Pester discovers the tests, before BeforeAll runs.
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:HaveCrashLog = Test-Path (Join-Path $SamplesDir 'crash/log.txt')
}
BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
    . (Join-Path $PSScriptRoot 'VmcoreTestDump.ps1')
    $script:Dir = Join-Path ([IO.Path]::GetTempPath()) "kdump-pester-log-$([guid]::NewGuid().ToString('N'))"
    New-Item -ItemType Directory $Dir | Out-Null
    $script:NoPrintk = New-TestElfVmcore -Path (Join-Path $Dir 'noprintk.elf')

    # The lines joined as makedumpfile writes them: each record's string, then a newline.
    function Join-Raw([string[]] $Lines) { if ($Lines.Count -eq 0) { '' } else { ($Lines -join "`n") + "`n" } }
    function Read-Text([string] $Path) { [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes($Path)) }
    $script:Makedumpfile = (Get-Command makedumpfile -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source
}
AfterAll {
    Get-Vmcore | Close-Vmcore
    Remove-Item $Dir -Recurse -Force -ErrorAction SilentlyContinue
}

Describe 'Get-CrashLog' {
    AfterEach { Get-Vmcore | Close-Vmcore }

    Context 'the committed sample dump' -Skip:(-not $HaveSample) {
        BeforeAll {
            $script:M = Get-TestManifest $SamplesDir
            $script:SampleFiles = @($M.dumps[0].files | ForEach-Object { Join-Path $SamplesDir $_ })
            $script:Expected = Read-Text (Join-Path $SamplesDir $M.dmesg)
        }
        BeforeEach { $script:V = Open-Vmcore -Path $SampleFiles }

        It '-Raw is byte-identical to makedumpfile --dump-dmesg' {
            $raw = @(Get-CrashLog -Raw)
            $raw[0] | Should -BeOfType [string]
            Join-Raw $raw | Should -BeExactly $Expected
        }
        It 'is byte-identical to crash 8.0.6 log' -Skip:(-not $HaveCrashLog) {
            Join-Raw @(Get-CrashLog -Raw) | Should -BeExactly (Read-Text (Join-Path $SamplesDir 'crash/log.txt'))
        }
        It 'returns records whose default view is the makedumpfile line' {
            $r = @(Get-CrashLog)
            $r[0] | Should -BeOfType 'Kdump.Engine.Linux.Printk.CrashLogRecord'
            $r[0].ToString().StartsWith('[    0.000000] Linux version 6.1.') | Should -BeTrue
            ($r[0] | Out-String).Trim() | Should -BeExactly $r[0].ToString()
            $r[0].Sequence | Should -Be 0
            $r[-1].Sequence | Should -BeGreaterThan 100
            $r | Where-Object Text -eq 'sysrq: Trigger a crash' | Should -HaveCount 1
            ($r | Where-Object Text -like 'Kernel panic - not syncing*').LevelName | Should -Be 'emerg'
            $r[0].CallerId | Should -Match '^[TC]\d+$'
        }
        It '-Tail returns the last records' {
            $all = @(Get-CrashLog -Raw)
            $tail = @(Get-CrashLog -Tail 5 -Raw)
            $tail.Count | Should -Be 5
            $tail | Should -Be $all[-5..-1]
        }
        It '-Level <LevelSpec> selects <Expected>' -TestCases @(
            @{ LevelSpec = @('emerg'); Expected = @(0) }
            @{ LevelSpec = @('warn+'); Expected = @(0, 1, 2, 3, 4) }
            @{ LevelSpec = @('+info'); Expected = @(6, 7) }
            @{ LevelSpec = @('notice', '7'); Expected = @(5, 7) }
        ) {
            $all = @(Get-CrashLog)
            $want = @($all | Where-Object Level -in $Expected)
            $got = @(Get-CrashLog -Level $LevelSpec)
            $got.Count | Should -Be $want.Count
            $got.Count | Should -BeGreaterThan 0
            $got | ForEach-Object { $_.Level | Should -BeIn $Expected }
        }
        It '-CallerId adds the caller as makedumpfile 1.7.6 does' {
            $r = Get-CrashLog -Tail 1 -CallerId
            $r.ToString() | Should -Match '^\[\s*\d+\.\d{6}\] \[ *[TC]\d+\] '
            (Get-CrashLog -Tail 1 -CallerId -Raw) | Should -BeExactly $r.ToString()
        }
        It 'takes the dump from the pipeline by property name' {
            $r = @([pscustomobject]@{ Vmcore = $V } | Get-CrashLog -Tail 2)
            $r.Count | Should -Be 2
        }
    }

    Context 'fixture dumps' -Skip:(-not $HaveFixtures) {
        It 'every dump of every kernel gives makedumpfile --dump-dmesg text byte for byte' {
            $checked = 0
            foreach ($fx in $FixturesDirs) {
                $FM = Get-TestManifest $fx
                $Reference = @{ pvpanic = Read-Text (Join-Path $fx $FM.dmesg) }
                # the kexec run's stored log where the suite's makedumpfile wrote it on the host (6.12, 7.x); the
                # capture kernel's vmcore-dmesg (6.1) writes continuation lines differently, so makedumpfile runs then
                $kx = if ($FM.runs.PSObject.Properties['kexec']) { $FM.runs.kexec }
                if ($kx -and $kx.PSObject.Properties['vmcoreDmesgTool'] -and $kx.vmcoreDmesgTool -like 'makedumpfile *' -and
                    (Test-Path (Join-Path $fx $kx.vmcoreDmesg))) { $Reference.kexec = Read-Text (Join-Path $fx $kx.vmcoreDmesg) }
                foreach ($c in @($FM.dumps)) {
                    # a dump whose producer dropped pages the kernel uses (7.x -d 31) is checked by the engine tests
                    if ($c.PSObject.Properties['dropsPages']) { continue }
                    if (-not $Reference.ContainsKey($c.run)) {
                        if (-not $Makedumpfile -or $c.format -ne 'elf') { continue }
                        $out = Join-Path $Dir "$($c.run).dmesg"
                        & $Makedumpfile --dump-dmesg (Join-Path $fx $c.files[0]) $out *> $null
                        $Reference[$c.run] = Read-Text $out
                    }
                    # makedumpfile 1.7.6+ (the 6.12 and 7.x sets) prints the caller id where the kernel exports it
                    $callers = $Reference[$c.run] -match '\A\[ *\d+\.\d{6}\] \[ *[TC]\d+\] '
                    $v = Open-Vmcore -Path (@($c.files) | ForEach-Object { Join-Path $fx $_ })
                    $text = Join-Raw @(Get-CrashLog -Vmcore $v -Raw -CallerId:$callers -WarningVariable w)
                    $w | Should -BeNullOrEmpty -Because "$fx $($c.name)"
                    $text | Should -BeExactly $Reference[$c.run] -Because "$fx $($c.name)"
                    $v | Close-Vmcore
                    $checked++
                }
            }
            $checked | Should -BeGreaterThan 1
        }
    }

    Context 'errors' {
        It 'a dump without printk symbols in VMCOREINFO is PrintkLogNotFound' {
            $v = Open-Vmcore -Path $NoPrintk
            $r = Get-CrashLog -Vmcore $v -ErrorVariable e -ErrorAction SilentlyContinue
            $r | Should -BeNullOrEmpty
            $e.Count | Should -Be 1
            $e[0].FullyQualifiedErrorId | Should -BeLike 'PrintkLogNotFound,*'
            $e[0].CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }
        It 'an unknown level is LevelInvalid' {
            $v = Open-Vmcore -Path $NoPrintk
            { Get-CrashLog -Vmcore $v -Level loud -ErrorAction Stop } | Should -Throw -ErrorId 'LevelInvalid,*'
        }
        It 'no open dump is VmcoreNotOpen' {
            { Get-CrashLog -ErrorAction Stop } | Should -Throw -ErrorId 'VmcoreNotOpen,*'
        }
        It '-Tail must be positive' {
            { Get-CrashLog -Tail 0 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,*'
        }
    }
}
