#requires -Version 7.4
<#
.SYNOPSIS
Times Get-CrashBacktrace -All beside crash's bt -a on the same dumps.

.DESCRIPTION
For the committed sample and the chosen fixture dumps (-DumpName; '*' for all), opens the dump and runs `Get-CrashBacktrace -All` (task table,
ORC tables, unwinding, symbols) several times in a fresh dump each time, and reports the median wall time. When
crash is available (the fixture generator's side root: <fixtures cache>/sideroot-trixie, run through
tests/fixtures/sideroot.sh) and the DWARF vmlinux of the dbg package is found (/work/cache-dbg or the fixtures
cache), it times `crash -s vmlinux dump` running `bt -a` the same way and prints crash's time divided by ours
(above 1: we are faster). crash's time includes its start-up (reading the vmlinux debuginfo), which is what a user
waits for.
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
$repo = Split-Path -Parent $PSScriptRoot

function Get-Median([double[]] $Values) { $s = $Values | Sort-Object; $s[[int][math]::Floor(($s.Count - 1) / 2)] }

# crash from the fixtures' side root, and a dbg vmlinux.
$cacheRoots = @($env:KDUMP_FIXTURES, (Join-Path $HOME '.cache/kdump-fixtures'), $(if ($FixturesPath) { Split-Path -Parent $FixturesPath })) | Where-Object { $_ }
$sideroot = $cacheRoots | ForEach-Object { Join-Path $_ 'cache/sideroot-trixie' } | Where-Object { Test-Path (Join-Path $_ 'root/usr/bin/crash') } | Select-Object -First 1
$vmlinux = @('/work/cache-dbg/usr/lib/debug/boot') + ($cacheRoots | ForEach-Object { Get-ChildItem (Join-Path $_ 'cache') -Directory -Filter 'dbg-*' -ErrorAction SilentlyContinue | ForEach-Object { Join-Path $_.FullName 'usr/lib/debug/boot' } }) |
    Where-Object { Test-Path $_ } | ForEach-Object { Get-ChildItem $_ -Filter 'vmlinux-*' -ErrorAction SilentlyContinue } | Select-Object -First 1 -ExpandProperty FullName

$dumps = [System.Collections.Generic.List[object]]::new()
foreach ($dir in @($SamplesPath, $FixturesPath)) {
    if (-not $dir -or -not (Test-Path (Join-Path $dir 'manifest.json'))) { continue }
    $m = Get-Content -Raw (Join-Path $dir 'manifest.json') | ConvertFrom-Json
    foreach ($d in $m.dumps) {
        if (@($d.files).Count -ne 1) { continue }
        if ($dir -eq $FixturesPath -and -not @($DumpName | Where-Object { $d.name -like $_ }).Count) { continue }
        $dumps.Add([pscustomobject]@{ Name = "$(Split-Path -Leaf $dir)/$($d.name)"; File = Join-Path $dir @($d.files)[0] })
    }
}
if ($dumps.Count -eq 0) { Write-Host 'Get-CrashBacktrace bench: no sample or fixture dumps; nothing to time.'; return }
if (-not $sideroot -or -not $vmlinux) { Write-Host 'crash skipped: crash (fixture side root) or the dbg vmlinux is not available; only our times are shown.' }

$cmdFile = Join-Path ([IO.Path]::GetTempPath()) "kdump-bench-bt-$PID.txt"
Set-Content $cmdFile "bt -a`nexit"
try {
    foreach ($d in $dumps) {
        $ours = foreach ($i in 1..$Repeat) {
            $v = Open-Vmcore -Path $d.File
            try { (Measure-Command { $script:n = @(Get-CrashBacktrace -All -Vmcore $v).Count }).TotalMilliseconds }
            finally { $v | Close-Vmcore }
        }
        $line = '{0,-36} Get-CrashBacktrace -All {1,8:N0} ms ({2} traces)' -f $d.Name, (Get-Median $ours), $n
        if ($sideroot -and $vmlinux) {
            $crash = foreach ($i in 1..$Repeat) {
                (Measure-Command { & (Join-Path $repo 'tests/fixtures/sideroot.sh') run $sideroot crash -s $vmlinux $d.File -i $cmdFile *> $null }).TotalMilliseconds
            }
            $line += '   crash bt -a {0,8:N0} ms   crash/ours {1,5:N1}' -f (Get-Median $crash), ((Get-Median $crash) / [math]::Max(1, (Get-Median $ours)))
        }
        Write-Host $line
    }
}
finally { Remove-Item $cmdFile -ErrorAction SilentlyContinue }
