<#
.SYNOPSIS
    Measures opening a debuginfo vmlinux: ELF symbols, DWARF index + first typed lookup (struct task_struct),
    member lookups the cmdlets use, BTF from the .BTF section, and peak memory.
.DESCRIPTION
    Each iteration runs in a fresh child pwsh process (so JIT, index build and peak working set are measured as a
    user's first Open-Vmcore -Vmlinux sees them) and prints one row; a summary with the median follows.
    The vmlinux is -Vmlinux, else KDUMP_VMLINUX_DEBUG, else the fixtures manifest's vmlinuxDebug, else the
    fixture generator's cache for the sample's kernel.
.EXAMPLE
    ./bench/Open-Vmlinux.ps1 -ModulePath out/Kdump -Iterations 3
#>
[CmdletBinding()]
param(
    [string]$ModulePath = (Join-Path $PSScriptRoot '../out/Kdump'),
    [string]$FixturesPath = $env:KDUMP_FIXTURES_DIR,
    [string]$SamplesPath = (Join-Path $PSScriptRoot '../samples'),
    [string]$Vmlinux,
    [ValidateRange(1, 50)][int]$Iterations = 3,
    [switch]$Child
)
$ErrorActionPreference = 'Stop'

function Get-ManifestValue([string]$Dir, [string]$Name) {
    if (-not $Dir) { return $null }
    $m = Join-Path $Dir 'manifest.json'
    if (-not (Test-Path $m)) { return $null }
    (Get-Content $m -Raw | ConvertFrom-Json).$Name
}

if (-not $Vmlinux) { $Vmlinux = $env:KDUMP_VMLINUX_DEBUG }
if (-not $Vmlinux) { $Vmlinux = Get-ManifestValue $FixturesPath 'vmlinuxDebug' }
if (-not $Vmlinux) {
    $ver = Get-ManifestValue $SamplesPath 'kernelPackageVersion'; $rel = Get-ManifestValue $SamplesPath 'release'
    $root = if ($env:KDUMP_FIXTURES) { $env:KDUMP_FIXTURES } else { Join-Path $HOME '.cache/kdump-fixtures' }
    if ($ver -and $rel) { $Vmlinux = Join-Path $root "cache/dbg-$ver/usr/lib/debug/boot/vmlinux-$rel" }
}
if (-not $Vmlinux -or -not (Test-Path $Vmlinux)) { Write-Host 'Open-Vmlinux bench skipped: no debuginfo vmlinux found (give -Vmlinux, set KDUMP_VMLINUX_DEBUG, or generate fixtures with KDUMP_FIXTURES_DBG=1).'; return }
$Vmlinux = (Resolve-Path $Vmlinux).Path
$engine = Join-Path (Resolve-Path $ModulePath).Path 'Kdump.Engine.dll'
if (-not (Test-Path $engine)) { Write-Host "Open-Vmlinux bench skipped: Kdump.Engine.dll not found in '$ModulePath' (run build.ps1 first)."; return }

if ($Child) {
    Add-Type -Path $engine
    $kaslr = [uint64]0
    $off = Get-ManifestValue $SamplesPath 'kernelOffset'
    if ($off) { $kaslr = [Convert]::ToUInt64(($off -replace '^0x', ''), 16) }
    [Kdump.Engine.Symbols.VmlinuxBenchmark]::Run($Vmlinux, $kaslr, $null) | ConvertTo-Json -Compress
    return
}

# pwsh may run as a dotnet tool ("dotnet pwsh"): then the process is dotnet and pwsh.dll must be named.
$pwsh = (Get-Process -Id $PID).Path
$pre = @()
if ([IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { $pre = @(Join-Path $PSHOME 'pwsh.dll') }
$rows = foreach ($i in 1..$Iterations) {
    $json = & $pwsh @pre -NoProfile -NonInteractive -File $PSCommandPath -Child -ModulePath $ModulePath -SamplesPath $SamplesPath -Vmlinux $Vmlinux
    if ($LASTEXITCODE -ne 0) { Write-Host "Open-Vmlinux bench skipped: child run $i failed: $json"; return }
    $r = $json | Select-Object -Last 1 | ConvertFrom-Json
    [pscustomobject]@{
        Run = $i; OpenMs = [math]::Round($r.OpenMs); SymbolsMs = [math]::Round($r.SymbolsMs); Symbols = $r.SymbolCount
        DwarfIndexMs = [math]::Round($r.DwarfIndexMs); FirstLookupMs = [math]::Round($r.DwarfFirstLookupMs, 1)
        MemberWalkMs = [math]::Round($r.DwarfMemberWalkMs, 1); BtfMs = [math]::Round($r.BtfMs); CpuMs = [math]::Round($r.CpuMs)
        PeakWorkingSetMB = [math]::Round($r.PeakWorkingSet / 1MB); ManagedMB = [math]::Round($r.ManagedHeap / 1MB)
        AllocatedMB = [math]::Round($r.AllocatedBytes / 1MB); Units = $r.DwarfUnits; Dies = $r.DwarfDiesScanned; Names = $r.DwarfNames
        Versions = $r.DwarfVersions; Members = $r.MembersResolved
    }
}
$rows | Format-Table Run, OpenMs, SymbolsMs, DwarfIndexMs, FirstLookupMs, MemberWalkMs, BtfMs, CpuMs, PeakWorkingSetMB, ManagedMB, AllocatedMB -AutoSize | Out-String -Width 220 | Write-Host
$first = $rows[0]
function Median($values) { $s = @($values | Sort-Object); $s[[int][math]::Floor(($s.Count - 1) / 2)] }
Write-Host ("vmlinux {0}: DWARF {1}, {2} units, {3} top-level DIEs scanned, {4} names; {5} ELF symbols; {6}/20 member lookups resolved" -f $Vmlinux, $first.Versions, $first.Units, $first.Dies, $first.Names, $first.Symbols, $first.Members)
Write-Host ("median: open {0} ms, symbols {1} ms, DWARF index {2} ms + first lookup {3} ms, BTF {4} ms, peak working set {5} MB (mapped file pages included), managed {6} MB" -f `
    (Median $rows.OpenMs), (Median $rows.SymbolsMs), (Median $rows.DwarfIndexMs), (Median $rows.FirstLookupMs), (Median $rows.BtfMs), (Median $rows.PeakWorkingSetMB), (Median $rows.ManagedMB))
$rows | Out-Null
