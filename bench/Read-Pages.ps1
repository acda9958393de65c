#requires -Version 7.4
<#
.SYNOPSIS
    Page-read throughput of every dump format, beside the plain decompressor, and flattened-vs-rearranged open time.
.DESCRIPTION
    For each dump of the fixtures (or the committed sample): reads every dumped page through the engine's bulk reader
    on one core and on all cores and prints MB/s of page data, the plain decompressor's MB/s on the same stored pages
    on one core (engine overhead = decompressor / engine on one core), and the speed-up on all cores. Then opens each
    flattened dump and its rearranged twin (written to a temporary file) and prints both open times and their ratio.
    Every figure is the median of -Repeat runs (open times: the median of 5 x -Repeat opens after a warm-up one).
    The figures are wall-clock: run it on a quiet machine (a loaded one mostly measures the other load; process CPU
    time is no remedy, as some virtual machines account it as wall time).
.PARAMETER Name
    Only the dumps whose manifest name matches one of these wildcards.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [string] $FixturesPath,
    [string] $SamplesPath,
    [ValidateRange(1, 99)] [int] $Repeat = 3,
    [string[]] $Name = @('*')
)
$ErrorActionPreference = 'Stop'
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).ProviderPath
Import-Module (Join-Path $ModulePath 'Kdump.psd1') -Force
$null = [Reflection.Assembly]::LoadFrom((Join-Path $ModulePath 'Kdump.Engine.dll'))

$sets = @()
foreach ($dir in @($FixturesPath, $SamplesPath)) {
    if ($dir -and (Test-Path (Join-Path $dir 'manifest.json'))) {
        $m = Get-Content -Raw (Join-Path $dir 'manifest.json') | ConvertFrom-Json
        foreach ($d in $m.dumps) { $sets += [pscustomobject]@{ Name = $d.name; Files = @($d.files | ForEach-Object { Join-Path $dir $_ }); Format = $d.format } }
        break   # fixtures when there are any, else the sample
    }
}
$Name = @($Name | ForEach-Object { $_ -split "," } | Where-Object { $_ })   # -File passes "a,b" as one string
$sets = @($sets | Where-Object { $n = $_.Name; $Name | Where-Object { $n -like $_ } })
if (-not $sets) { Write-Warning 'No fixtures or sample dump: nothing to measure.'; return }

$tmp = Join-Path ([IO.Path]::GetTempPath()) "kdump-bench-$PID"
New-Item -ItemType Directory -Force $tmp | Out-Null
try {
    # Without fixtures, make a flattened copy of the sample so the open-time comparison has something to compare.
    if (-not ($sets | Where-Object Format -eq 'flattened')) {
        $src = $sets[0].Files[0]
        $flat = Join-Path $tmp ((Split-Path $src -Leaf) + '.flat')
        $in = [IO.File]::OpenRead($src); $out = [IO.File]::Create($flat)
        try {
            $hdr = [byte[]]::new(4096); [Text.Encoding]::ASCII.GetBytes('makedumpfile').CopyTo($hdr, 0)
            $hdr[23] = 1; $hdr[31] = 1; $out.Write($hdr, 0, 4096)
            $buf = [byte[]]::new(4096); $off = 0L
            function BE([long] $v) { $b = [BitConverter]::GetBytes($v); [Array]::Reverse($b); $b }
            while (($n = $in.Read($buf, 0, 4096)) -gt 0) { $out.Write((BE $off), 0, 8); $out.Write((BE $n), 0, 8); $out.Write($buf, 0, $n); $off += $n }
            $out.Write((BE -1), 0, 8); $out.Write((BE 0), 0, 8)
        } finally { $in.Dispose(); $out.Dispose() }
        $sets += [pscustomobject]@{ Name = 'sample-flattened (4 KiB records)'; Files = @($flat); Format = 'flattened' }
    }

    function Median([double[]] $v) { $v = @($v | Sort-Object); if ($v.Count -eq 0) { return $null }; $m = [int][math]::Floor($v.Count / 2); if ($v.Count % 2) { $v[$m] } else { ($v[$m - 1] + $v[$m]) / 2 } }
    $cores = [Environment]::ProcessorCount
    $none = [Threading.CancellationToken]::None
    $rows = foreach ($s in $sets) {
        $r = [Kdump.Engine.Dump.DumpFile]::OpenAll([string[]]$s.Files, [Kdump.Engine.Dump.DumpOpenOptions]@{ RecoverVmcoreInfo = $false }, $null)[0]
        if ($r.Error) { Write-Warning "$($s.Name): $($r.Error.Message)"; continue }
        $d = $r.Dump
        try {
            $null = [Kdump.Engine.Dump.DumpBenchmark]::ReadAllPages($d, 1, $none)   # warm the page cache of the OS
            $one = @(); $all = @(); $dec = @()
            foreach ($i in 1..$Repeat) {
                $one += [Kdump.Engine.Dump.DumpBenchmark]::ReadAllPages($d, 1, $none)
                $all += [Kdump.Engine.Dump.DumpBenchmark]::ReadAllPages($d, -1, $none)
                $x = [Kdump.Engine.Dump.DumpBenchmark]::DecompressOnly($d, 256MB)
                if ($x) { $dec += $x }
            }
            $e1 = Median ($one | ForEach-Object { $_.MegabytesPerSecond })
            $eN = Median ($all | ForEach-Object { $_.MegabytesPerSecond })
            $dm = if ($dec) { Median ($dec | ForEach-Object { $_.MegabytesPerSecond }) } else { $null }
            [pscustomobject]@{
                Dump                       = $s.Name
                Format                     = "$($d.Format)/$($d.Compression)"
                Pages                      = $one[0].Pages
                'Engine 1 core MB/s'       = [math]::Round($e1, 1)
                'Decompressor 1 core MB/s' = if ($null -ne $dm) { [math]::Round($dm, 1) } else { 'n/a (raw)' }
                'Engine/decompressor'      = if ($dm -gt 0) { [math]::Round($e1 / $dm, 2) } else { $null }
                "Engine $cores cores MB/s" = [math]::Round($eN, 1)
                'Speed-up'                 = if ($e1 -gt 0) { [math]::Round($eN / $e1, 2) } else { $null }
            }
        } finally { $d.Dispose() }
    }
    Write-Host "Page reads ($cores cores; MB/s of page data produced; median of $Repeat runs):"
    $rows | Format-Table -Property * -AutoSize | Out-String -Width 400 | Write-Host

    Write-Host "Open time: flattened (read in place) vs its rearranged twin (median of $(5 * $Repeat) opens each):"
    $open = foreach ($s in $sets | Where-Object Format -eq 'flattened') {
        $flat = $s.Files[0]
        $twin = Join-Path $tmp ((Split-Path $flat -Leaf) + '.rearranged')
        if (-not (Test-Path $twin)) { [Kdump.Engine.Dump.DumpBenchmark]::WriteRearranged($flat, $twin) }
        $null = [Kdump.Engine.Dump.DumpBenchmark]::MeasureOpen($flat, 1); $null = [Kdump.Engine.Dump.DumpBenchmark]::MeasureOpen($twin, 1)
        $fs = @(); $rs = @()
        foreach ($i in 1..(5 * $Repeat)) {   # interleaved, so load changes hit both alike
            $fs += [Kdump.Engine.Dump.DumpBenchmark]::MeasureOpen($flat, 1).TotalMilliseconds
            $rs += [Kdump.Engine.Dump.DumpBenchmark]::MeasureOpen($twin, 1).TotalMilliseconds
        }
        $tf = Median $fs; $tr = Median $rs
        [pscustomobject]@{
            Dump = $s.Name
            'MB' = [math]::Round((Get-Item $flat).Length / 1MB, 1)
            'Flattened ms' = [math]::Round($tf, 2)
            'Rearranged ms' = [math]::Round($tr, 2)
            'Ratio' = [math]::Round($tf / [math]::Max(0.001, $tr), 2)
        }
    }
    $open | Format-Table -AutoSize | Out-String -Width 400 | Write-Host
}
finally { Remove-Item $tmp -Recurse -Force -ErrorAction SilentlyContinue }
