#requires -Version 7.4
<#
.SYNOPSIS
Times Get-CrashLog beside makedumpfile --dump-dmesg on the same dumps and prints the ratio.

.DESCRIPTION
For the committed sample and every fixture dump that makedumpfile can read directly (ELF and kdump-compressed;
not flattened or split sets), runs `Get-CrashLog -Raw` (open, read the ring, format every line) and
`makedumpfile --dump-dmesg` several times each, reports the median wall time of both, checks that the two outputs
are byte-identical and prints makedumpfile's time divided by ours (above 1: we are faster). Without makedumpfile
only our times are printed.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [string] $FixturesPath,
    [string] $SamplesPath,
    [ValidateRange(1, 100)] [int] $Repeat = 5
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path (Resolve-Path $ModulePath).Path 'Kdump.psd1') -Force
$mdf = (Get-Command makedumpfile -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Source

function Get-Median([double[]] $Values) { $s = $Values | Sort-Object; $s[[int][math]::Floor(($s.Count - 1) / 2)] }

$dumps = [System.Collections.Generic.List[object]]::new()
foreach ($dir in @($SamplesPath, $FixturesPath)) {
    if (-not $dir -or -not (Test-Path (Join-Path $dir 'manifest.json'))) { continue }
    $m = Get-Content -Raw (Join-Path $dir 'manifest.json') | ConvertFrom-Json
    foreach ($d in $m.dumps) {
        $dumps.Add([pscustomobject]@{
            Name = "$(Split-Path -Leaf $dir)/$($d.name)"; Files = @($d.files | ForEach-Object { Join-Path $dir $_ })
            Format = $d.format; Bytes = $d.bytes
        })
    }
}
if ($dumps.Count -eq 0) { Write-Host 'Get-CrashLog bench: no sample or fixture dumps; nothing to time.'; return }

$tmp = Join-Path ([IO.Path]::GetTempPath()) "kdump-bench-log-$PID"
New-Item -ItemType Directory $tmp -Force | Out-Null
try {
    $rows = foreach ($d in $dumps) {
        $ours = [double[]]@(foreach ($i in 1..$Repeat) {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $v = Open-Vmcore -Path $d.Files
            $lines = @(Get-CrashLog -Vmcore $v -Raw)
            $v | Close-Vmcore
            $sw.Elapsed.TotalMilliseconds
        })
        $text = ($lines -join "`n") + "`n"
        $theirs = $null; $same = $null
        if ($mdf -and $d.Format -in 'elf', 'kdump') {
            $out = Join-Path $tmp 'dmesg.txt'
            $failed = $false
            $theirs = [double[]]@(foreach ($i in 1..$Repeat) {
                Remove-Item $out -ErrorAction SilentlyContinue
                $sw = [Diagnostics.Stopwatch]::StartNew()
                & $mdf --dump-dmesg $d.Files[0] $out *> $null
                $ms = $sw.Elapsed.TotalMilliseconds
                if ($LASTEXITCODE -ne 0 -or -not (Test-Path $out)) { $failed = $true }
                $ms
            })
            # makedumpfile 1.7.2 cannot read some dumps (QEMU 7.2's ELF layout, zstd pages): nothing to compare then.
            if ($failed) { $theirs = $null; $same = 'makedumpfile failed' }
            else { $same = $text -ceq [Text.Encoding]::Latin1.GetString([IO.File]::ReadAllBytes($out)) }
        }
        $o = Get-Median $ours
        $t = if ($theirs) { Get-Median $theirs } else { $null }
        [pscustomobject]@{
            Dump = $d.Name; MiB = [math]::Round($d.Bytes / 1MB, 1); Records = $lines.Count
            'Get-CrashLog ms' = [math]::Round($o, 1)
            'makedumpfile ms' = if ($null -ne $t) { [math]::Round($t, 1) } else { 'n/a' }
            Ratio = if ($null -ne $t) { [math]::Round($t / $o, 2) } else { 'n/a' }
            Identical = if ($null -ne $same) { $same } else { 'n/a' }
        }
    }
    $rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
    Write-Host "Ratio = makedumpfile time / Get-CrashLog time (median of $Repeat runs, each including opening the dump)."
    if (-not $mdf) { Write-Host 'makedumpfile skipped: it is not installed; only Get-CrashLog was timed.' }
    if ($rows | Where-Object { $_.Identical -is [bool] -and -not $_.Identical }) { Write-Host 'WARNING: some outputs differ from makedumpfile --dump-dmesg.'; exit 1 }
}
finally { Remove-Item $tmp -Recurse -Force -ErrorAction SilentlyContinue }
