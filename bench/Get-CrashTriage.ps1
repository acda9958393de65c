#requires -Version 7.4
<#
.SYNOPSIS
Times Get-CrashTriage over N copies of the sample dump, one runspace and several in parallel, with peak memory.

.DESCRIPTION
Copies the committed sample (samples/vmcore.kdump) -Count times into a temporary folder (distinct paths, so every
copy is opened, read and triaged from scratch), then, in a fresh child pwsh for each case so that the peak
resident set (/usr/bin/time's maximum RSS) belongs to that case alone:
  - sequential: Open-Vmcore | Get-CrashTriage | Close-Vmcore for each copy in one runspace;
  - parallel T: ForEach-Object -Parallel -ThrottleLimit T over the copies, each runspace opening and closing its dump.
Prints wall time (the child's own measurement of the timed loop, median of -Repeat runs), dumps per second and peak
MiB, and checks that every copy gave the same signature. With fixtures, one triage of each fixture dump is timed too.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [string] $FixturesPath,
    [string] $SamplesPath,
    [ValidateRange(1, 256)] [int] $Count = 8,
    [ValidateRange(1, 64)] [int[]] $ThrottleLimit = @(2, 4),
    [ValidateRange(1, 20)] [int] $Repeat = 3
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'common.ps1')
$module = Join-Path (Resolve-Path $ModulePath).Path 'Kdump.psd1'
if (-not $SamplesPath) { $SamplesPath = Join-Path $script:BenchRepo 'samples' }
$sample = Join-Path $SamplesPath 'vmcore.kdump'
if (-not (Test-Path $sample)) { Write-Host "Get-CrashTriage bench: skipped: no sample dump at $sample"; return }

$tmp = Join-Path ([IO.Path]::GetTempPath()) "kdump-bench-triage-$PID"
New-Item -ItemType Directory $tmp -Force | Out-Null
try {
    $copies = foreach ($i in 1..$Count) { $p = Join-Path $tmp ("vmcore-{0:000}.kdump" -f $i); Copy-Item $sample $p; $p }
    $list = Join-Path $tmp 'dumps.txt'
    Set-Content -Path $list -Value $copies
    $child = @'
param($Module, $List, $Throttle)
Import-Module $Module
$paths = Get-Content $List
# warm up: JIT and module load are not part of the throughput
$w = Open-Vmcore -Path $paths[0]; $null = Get-CrashTriage -Vmcore $w; Close-Vmcore -Vmcore $w
$sw = [Diagnostics.Stopwatch]::StartNew()
if ($Throttle -le 1) {
    $r = foreach ($p in $paths) { $v = Open-Vmcore -Path $p; try { Get-CrashTriage -Vmcore $v | Select-Object SignatureHash } finally { Close-Vmcore -Vmcore $v } }
} else {
    $r = $paths | ForEach-Object -ThrottleLimit $Throttle -Parallel {
        Import-Module $using:Module
        $v = Open-Vmcore -Path $_
        try { Get-CrashTriage -Vmcore $v | Select-Object SignatureHash } finally { Close-Vmcore -Vmcore $v }
    }
}
$ms = $sw.Elapsed.TotalMilliseconds
[pscustomobject]@{ Ms = $ms; Dumps = @($r).Count; Signatures = @($r.SignatureHash | Select-Object -Unique).Count } | ConvertTo-Json -Compress
'@
    $script = Join-Path $tmp 'child.ps1'
    Set-Content -Path $script -Value $child
    $pwsh = Get-BenchPwsh
    $rows = foreach ($t in @(1) + $ThrottleLimit) {
        $runs = foreach ($i in 1..$Repeat) {
            $r = Invoke-BenchProcess -FilePath $pwsh.Exe -ArgumentList ($pwsh.Prefix + @('-NoProfile', '-NonInteractive', '-File', $script, $module, $list, $t)) -TimeoutSeconds 1200
            if ($r.ExitCode -ne 0) { Write-Host "Get-CrashTriage bench: the child failed (throttle $t): $($r.Error.Trim())"; continue }
            $j = $r.Output.Trim().Split("`n")[-1] | ConvertFrom-Json
            if ($j.Dumps -ne $Count -or $j.Signatures -ne 1) { Write-Host "Get-CrashTriage bench: throttle $t gave $($j.Dumps) triages with $($j.Signatures) signatures (expected $Count and 1)" }
            [pscustomobject]@{ Ms = [double]$j.Ms; PeakKiB = $r.PeakKiB }
        }
        if (-not $runs) { continue }
        $ms = Get-BenchMedian @($runs.Ms)
        [pscustomobject]@{
            Case = if ($t -le 1) { 'sequential' } else { "parallel x$t" }
            Dumps = $Count
            WallMs = Format-BenchMs $ms
            MsPerDump = Format-BenchMs ($ms / $Count)
            DumpsPerSecond = [math]::Round($Count * 1000 / $ms, 2)
            PeakMiB = Format-BenchMiB (($runs.PeakKiB | Where-Object { $_ } | Measure-Object -Maximum).Maximum)
        }
    }
    $rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    Write-Host "Sample: $([math]::Round((Get-Item $sample).Length / 1MB, 1)) MiB kdump-compressed dump ($Count copies). Wall = the child's timed loop after a warm-up triage (median of $Repeat); PeakMiB = the child process's maximum RSS (/usr/bin/time), module load and warm-up included. Cores on this machine: $([Environment]::ProcessorCount)."

    # one triage of each fixture dump, in this process
    $fx = @(Get-BenchDump -Dirs @($FixturesPath) | Where-Object { $_.Files.Count -eq 1 })
    if ($fx.Count) {
        Import-Module $module -Force
        $w = Open-Vmcore -Path $fx[0].Files; $null = Get-CrashTriage -Vmcore $w; Close-Vmcore -Vmcore $w
        $frows = foreach ($d in $fx) {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $v = Open-Vmcore -Path $d.Files
            try { $t = Get-CrashTriage -Vmcore $v } finally { Close-Vmcore -Vmcore $v }
            [pscustomobject]@{ Dump = $d.Name; Format = $d.Format; MiB = [math]::Round($d.Bytes / 1MB, 1); Ms = Format-BenchMs $sw.Elapsed.TotalMilliseconds; Class = $t.PanicClass; Signature = $t.SignatureHash }
        }
        $frows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    }
}
finally { Remove-Item $tmp -Recurse -Force -ErrorAction SilentlyContinue }
