#requires -Version 7.4
<#
.SYNOPSIS
Times Get-CrashProcess, Get-CrashProcess | Get-CrashFile and Get-CrashProcess | Get-CrashVm beside crash 8.0.6's
ps, foreach files and foreach vm, and drgn's task listing, on the same dumps, as ratios, with peak memory.

.DESCRIPTION
For the committed sample and the chosen fixture dumps (-DumpName; '*' for every kdump-compressed or ELF one), in this
(warm) pwsh: Open-Vmcore followed by Get-CrashProcess over all tasks, then the per-task pipelines over all tasks, each
on a freshly opened dump (nothing cached), median of -Repeat runs. crash runs from the fixture generator's side root
(tests/fixtures/sideroot.sh) when it and the Debian debug vmlinux are found: each crash run is a full session
(startup with the vmlinux, the command, exit), so its time includes loading the debuginfo; a baseline run with only
`exit` is timed too and subtracted for the "command only" figure. drgn (Debian 12's python3-drgn, and Debian 13's
0.0.31 when unpacked in <cache>/sideroot-drgn-trixie) runs for_each_task over the dump with the vmlinux, reading each
task's pid and comm: a whole process too, and its in-process listing time alone. Ratios are theirs / ours: above 1
means we are faster. Peak memory: ours is this pwsh's VmHWM (module, JIT and every run so far), theirs the maximum
resident set of one session (/usr/bin/time).
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [string] $FixturesPath,
    [string] $SamplesPath,
    [ValidateRange(1, 100)] [int] $Repeat = 3,
    # Fixture dumps (manifest names, wildcards) to time; the samples' dumps are always timed.
    [string[]] $DumpName = @('mdf-zlib', 'kexec-vmcore')
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path (Resolve-Path $ModulePath).Path 'Kdump.psd1') -Force
. (Join-Path $PSScriptRoot 'common.ps1')

$vmlinux = Find-BenchVmlinux $FixturesPath $SamplesPath
$crash = Find-BenchCrash
$drgns = @(Find-BenchDrgn)
$notes = [Collections.Generic.List[string]]::new()
if (-not $vmlinux) { $notes.Add('crash and drgn skipped: no debug vmlinux found (KDUMP_VMLINUX_DEBUG, fixtures manifest vmlinuxDebug, /work/cache-dbg).') }
if ($crash -is [string]) { $notes.Add("crash skipped: $crash"); $crash = $null }
foreach ($d in $drgns | Where-Object { $_ -is [string] }) { $notes.Add("skipped: $d") }
$drgns = @($drgns | Where-Object { $_ -isnot [string] })
if (-not $vmlinux) { $crash = $null; $drgns = @() }

$dumps = @(Get-BenchDump -Dirs $SamplesPath -Format kdump, elf) + @(Get-BenchDump -Dirs $FixturesPath -Format kdump, elf | Where-Object {
        $n = $_.Short; @($DumpName | Where-Object { $n -like $_ }).Count -gt 0 })
if ($dumps.Count -eq 0) { Write-Host 'Get-CrashProcess bench skipped: no sample or fixture dumps; nothing to time.'; return }

function Measure-Ours([string[]] $Files, [scriptblock] $Work) {
    [double[]]@(foreach ($i in 1..$Repeat) {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        $v = Open-Vmcore -Path $Files
        $n = @(& $Work $v).Count
        $v | Close-Vmcore
        $sw.Elapsed.TotalMilliseconds
    })
}

function Measure-Crash([string] $Dump, [string] $Command) {
    if (-not $crash) { return $null }
    $runs = @(foreach ($i in 1..$Repeat) { Invoke-BenchCrash $crash $vmlinux @($Dump) @($Command) })
    if (@($runs | Where-Object { $_.ExitCode -ne 0 -or $null -eq $_.Ms }).Count) { return $null }
    [pscustomobject]@{ Ms = Get-BenchMedian @($runs.Ms); PeakKiB = ($runs.PeakKiB | Measure-Object -Maximum).Maximum }
}

# warm up (JIT, module load) on the first dump
$null = Measure-Ours $dumps[0].Files { param($v) Get-CrashProcess -Vmcore $v }

$rows = foreach ($d in $dumps) {
    $base = if (@($d.Files).Count -eq 1) { Measure-Crash $d.Files[0] '' }
    foreach ($case in @(
        @{ Name = 'ps'; Ours = { param($v) Get-CrashProcess -Vmcore $v }; Crash = 'ps' },
        @{ Name = 'files'; Ours = { param($v) Get-CrashProcess -Vmcore $v | Get-CrashFile -Vmcore $v -ErrorAction SilentlyContinue }; Crash = 'foreach files' },
        @{ Name = 'vm'; Ours = { param($v) Get-CrashProcess -Vmcore $v | Get-CrashVm -Vmcore $v -ErrorAction SilentlyContinue }; Crash = 'foreach vm' })) {
        $ours = Get-BenchMedian (Measure-Ours $d.Files $case.Ours)
        $c = if (@($d.Files).Count -eq 1) { Measure-Crash $d.Files[0] $case.Crash }
        [pscustomobject]@{
            Dump = $d.Name; Command = $case.Name; Tool = $(if ($crash) { $crash.Version } else { 'crash' }); OursMs = Format-BenchMs $ours
            TheirsMs = if ($c) { Format-BenchMs $c.Ms } else { 'n/a' }
            Ratio = if ($c) { Get-BenchRatio $c.Ms $ours } else { 'n/a' }
            TheirCommandOnlyMs = if ($c -and $base) { Format-BenchMs ([math]::Max(0, $c.Ms - $base.Ms)) } else { 'n/a' }
            TheirPeakMiB = if ($c) { Format-BenchMiB $c.PeakKiB } else { 'n/a' }
        }
        if ($case.Name -ne 'ps' -or @($d.Files).Count -ne 1) { continue }
        foreach ($g in $drgns) {
            $runs = @(foreach ($i in 1..$Repeat) { Invoke-BenchDrgn $g 'ps' $d.Files[0] $vmlinux })
            $ok = @($runs | Where-Object { -not $_.Error })
            if ($ok.Count -ne $runs.Count) {
                [pscustomobject]@{ Dump = $d.Name; Command = 'ps'; Tool = $g.Name; OursMs = Format-BenchMs $ours; TheirsMs = 'failed'; Ratio = 'n/a'
                    TheirCommandOnlyMs = "$(@($runs | Where-Object Error)[0].Error)"; TheirPeakMiB = 'n/a' }
                continue
            }
            $ms = Get-BenchMedian @($ok.Ms)
            [pscustomobject]@{
                Dump = $d.Name; Command = "ps ($($ok[0].Result) tasks)"; Tool = $g.Name; OursMs = Format-BenchMs $ours
                TheirsMs = Format-BenchMs $ms; Ratio = Get-BenchRatio $ms $ours
                TheirCommandOnlyMs = Format-BenchMs (Get-BenchMedian @($ok.WorkMs))
                TheirPeakMiB = Format-BenchMiB ($ok.PeakKiB | Measure-Object -Maximum).Maximum
            }
        }
    }
}
Remove-BenchTemp
$rows | Format-Table -AutoSize | Out-String -Width 250 | Write-Host
Write-Host "Ratio = their whole session / our Open-Vmcore + pipeline in this warm pwsh (median of $Repeat). TheirCommandOnlyMs: crash's session minus an empty session; drgn's for_each_task loop alone."
Write-Host ('Our peak resident set (this pwsh, all runs): {0} MiB' -f (Format-BenchMiB (Get-BenchPeakKiB)))
foreach ($n in $notes) { Write-Host $n }
