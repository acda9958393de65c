#requires -Version 7.4
<#
.SYNOPSIS
Times Get-CrashProcess, Get-CrashProcess | Get-CrashFile and Get-CrashProcess | Get-CrashVm beside crash 8.0.6's
ps, foreach files and foreach vm on the same dumps, as ratios, with our peak memory.

.DESCRIPTION
For the committed sample and every kdump-compressed or ELF fixture dump, in this (warm) pwsh: Open-Vmcore followed by
Get-CrashProcess over all tasks, then the per-task pipelines over all tasks, each on a freshly opened dump (nothing
cached), median of -Repeat runs. crash runs from the fixture generator's side root (tests/fixtures/sideroot.sh) when
it and the Debian debug vmlinux are found: each crash run is a full session (startup with the vmlinux, the command,
exit), so its time includes loading the debuginfo; a baseline run with only `exit` is timed too and subtracted for the
"command only" ratio. Ratios above 1 mean we are faster. Peak working set is this process's.
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [string] $FixturesPath,
    [string] $SamplesPath,
    [ValidateRange(1, 100)] [int] $Repeat = 3
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $ModulePath 'Kdump.psd1') -Force
function Get-Median([double[]] $Values) { $s = $Values | Sort-Object; $s[[int][math]::Floor(($s.Count - 1) / 2)] }

$repo = Resolve-Path (Join-Path $PSScriptRoot '..')
$sideRootScript = Join-Path $repo 'tests/fixtures/sideroot.sh'
$sideRoot = Join-Path ([Environment]::GetFolderPath('UserProfile')) '.cache/kdump-fixtures/cache/sideroot-trixie'
$haveCrash = (Test-Path (Join-Path $sideRoot 'root/usr/bin/crash')) -and (Test-Path $sideRootScript)
$vmlinux = @(
    Get-ChildItem -Path '/work/cache-dbg', (Join-Path ([Environment]::GetFolderPath('UserProfile')) '.cache/kdump-fixtures/cache') -Recurse -Filter 'vmlinux-*' -ErrorAction SilentlyContinue |
        Where-Object { $_.FullName -match 'usr/lib/debug/boot/' }
) | Select-Object -First 1

$dumps = [System.Collections.Generic.List[object]]::new()
foreach ($dir in @($SamplesPath, $FixturesPath)) {
    if (-not $dir -or -not (Test-Path (Join-Path $dir 'manifest.json'))) { continue }
    $m = Get-Content -Raw (Join-Path $dir 'manifest.json') | ConvertFrom-Json
    foreach ($d in $m.dumps) {
        if ($d.format -notin 'kdump', 'elf') { continue }
        $dumps.Add([pscustomobject]@{ Name = "$(Split-Path -Leaf $dir)/$($d.name)"; Files = @($d.files | ForEach-Object { Join-Path $dir $_ }); Release = $m.release })
    }
}
if ($dumps.Count -eq 0) { Write-Host 'Get-CrashProcess bench: no sample or fixture dumps; nothing to time.'; return }

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
    if (-not $haveCrash -or -not $vmlinux) { return $null }
    [double[]]@(foreach ($i in 1..$Repeat) {
        $in = New-TemporaryFile
        Set-Content -Path $in -Value @($Command, 'exit') -Encoding ascii
        $sw = [Diagnostics.Stopwatch]::StartNew()
        & bash $sideRootScript run $sideRoot crash -s -i $in.FullName $vmlinux.FullName $Dump *> $null
        $ms = $sw.Elapsed.TotalMilliseconds
        Remove-Item $in
        $ms
    })
}

# warm up (JIT, module load) on the first dump
$null = Measure-Ours $dumps[0].Files { param($v) Get-CrashProcess -Vmcore $v }

$rows = foreach ($d in $dumps) {
    $base = Measure-Crash $d.Files[0] ''
    foreach ($case in @(
        @{ Name = 'ps'; Ours = { param($v) Get-CrashProcess -Vmcore $v }; Crash = 'ps' },
        @{ Name = 'files'; Ours = { param($v) Get-CrashProcess -Vmcore $v | Get-CrashFile -Vmcore $v -ErrorAction SilentlyContinue }; Crash = 'foreach files' },
        @{ Name = 'vm'; Ours = { param($v) Get-CrashProcess -Vmcore $v | Get-CrashVm -Vmcore $v -ErrorAction SilentlyContinue }; Crash = 'foreach vm' })) {
        $ours = Get-Median (Measure-Ours $d.Files $case.Ours)
        $crash = Measure-Crash $d.Files[0] $case.Crash
        $crashMs = if ($crash) { Get-Median $crash } else { $null }
        $baseMs = if ($base) { Get-Median $base } else { $null }
        [pscustomobject]@{
            Dump = $d.Name; Command = $case.Name; OursMs = [math]::Round($ours, 1)
            CrashMs = if ($crashMs) { [math]::Round($crashMs, 1) } else { 'n/a' }
            Ratio = if ($crashMs) { [math]::Round($crashMs / $ours, 2) } else { 'n/a' }
            CrashCommandOnlyMs = if ($crashMs) { [math]::Round([math]::Max(0, $crashMs - $baseMs), 1) } else { 'n/a' }
        }
    }
}
$rows | Format-Table -AutoSize | Out-String -Width 200 | Write-Host
if (-not $haveCrash -or -not $vmlinux) { Write-Host 'crash 8.0.6 or the debug vmlinux not found: only our times are shown.' }
Write-Host ('Peak working set: {0:N0} MiB' -f ([Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64 / 1MB))
