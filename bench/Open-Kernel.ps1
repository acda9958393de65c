#requires -Version 7.4
<#
.SYNOPSIS
    Benchmark: open a dump and make the first typed lookup (init_task's pid) with no debuginfo, with the vmlinux's
    BTF and with its DWARF, beside crash 8.0.6 and drgn on the same dump; times, peak memory and ratios.
.DESCRIPTION
    For the committed sample and the fixtures' mdf-zlib (kdump-compressed) and kexec-vmcore (ELF) dumps:
    - ours, each type source in a fresh child pwsh (cold): Import-Module, Open-Vmcore [-Vmlinux X -TypeSource
      Btf|Dwarf], then Get-CrashObject -Variable init_task -Member pid. The child reports its in-process times and its
      peak resident set (VmHWM) after that first lookup; then it closes and reopens -Warm times in the same process
      (warm: JIT done, vmlinux pages in the page cache) and reports the median.
    - crash (Debian 13's 8.0.6 from the fixture generator's side root): `crash -s VMLINUX DUMP -i CMDFILE` running
      `struct task_struct.pid init_task` then `exit`. crash needs the DWARF vmlinux: it has no mode without one.
    - drgn (Debian 12's python3-drgn 0.0.22 and, when unpacked in <cache>/sideroot-drgn-trixie, Debian 13's
      0.0.31): set_core_dump + load_debug_info([vmlinux]) + prog['init_task'].pid; and with no vmlinux, kallsyms
      from the dump (0.0.31 only), which gives symbols but no types, so only the symbol's address.
    Process times are wall time of the whole child process (start to exit, as a user waits); peak memory is the
    child's maximum resident set (/usr/bin/time, else the child's own report). Ratios are theirs / ours: above 1 we
    are faster (or smaller).
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [string] $FixturesPath,
    [string] $SamplesPath,
    # Fixture dumps (manifest names) to time; the samples' dumps are always timed.
    [string[]] $DumpName = @('mdf-zlib', 'kexec-vmcore'),
    [ValidateRange(0, 20)] [int] $Warm = 3,
    # Child mode (internal): one cold open + lookup, then warm repeats; prints one JSON line.
    [switch] $Child,
    [string] $Dump,
    [ValidateSet('None', 'Btf', 'Dwarf')] [string] $TypeSource = 'None',
    [string] $Vmlinux
)
$ErrorActionPreference = 'Stop'
. (Join-Path $PSScriptRoot 'common.ps1')
$ModulePath = (Resolve-Path $ModulePath).Path

if ($Child) {
    $r = [ordered]@{}
    try {
        $sw = [Diagnostics.Stopwatch]::StartNew()
        Import-Module (Join-Path $ModulePath 'Kdump.psd1') -Force
        $r.ImportMs = $sw.Elapsed.TotalMilliseconds
        $open = @{ Path = $Dump }
        if ($TypeSource -ne 'None') { $open.Vmlinux = $Vmlinux; $open.TypeSource = $TypeSource }
        $measure = {
            $sw = [Diagnostics.Stopwatch]::StartNew()
            $v = Open-Vmcore @open
            $o = $sw.Elapsed.TotalMilliseconds
            $sw.Restart()
            $obj = Get-CrashObject -Vmcore $v -Variable init_task -Member pid
            $l = $sw.Elapsed.TotalMilliseconds
            [pscustomobject]@{ Vmcore = $v; OpenMs = $o; LookupMs = $l; Pid = $obj.Members[0].Value }
        }
        $c = & $measure
        $r.OpenMs = $c.OpenMs; $r.LookupMs = $c.LookupMs; $r.Result = "$($c.Pid)"
        $r.PeakKiB = Get-BenchPeakKiB
        $r.Types = $c.Vmcore.TypeSources
        $c.Vmcore | Close-Vmcore
        $warmMs = foreach ($i in 1..$Warm) { if ($Warm -gt 0) { $w = & $measure; $w.Vmcore | Close-Vmcore; $w.OpenMs + $w.LookupMs } }
        $r.WarmMs = Get-BenchMedian @($warmMs)
    } catch { $r.Error = "$($_.FullyQualifiedErrorId): $($_.Exception.Message)" }
    $r | ConvertTo-Json -Compress
    return
}

$dumps = @(Get-BenchDump -Dirs $SamplesPath -SingleFile) + @(Get-BenchDump -Dirs $FixturesPath -SingleFile | Where-Object Short -in $DumpName)
if ($dumps.Count -eq 0) { Write-Host 'Open-Kernel bench skipped: no sample or fixture dumps found (give -SamplesPath or -FixturesPath).'; return }
$vm = Find-BenchVmlinux $FixturesPath $SamplesPath
$crash = Find-BenchCrash
$drgns = @(Find-BenchDrgn)
$notes = [Collections.Generic.List[string]]::new()
if (-not $vm) { $notes.Add('BTF/DWARF, crash and drgn-with-vmlinux skipped: no debug vmlinux found (KDUMP_VMLINUX_DEBUG, fixtures manifest vmlinuxDebug, /work/cache-dbg).') }
if ($crash -is [string]) { $notes.Add("crash skipped: $crash"); $crash = $null }
foreach ($d in $drgns | Where-Object { $_ -is [string] }) { $notes.Add("skipped: $d") }
$drgns = @($drgns | Where-Object { $_ -isnot [string] })
if (-not (Find-BenchTimeExe)) { $notes.Add('/usr/bin/time is missing (apt-get install time): peak memory of crash is not measured.') }
$pwsh = Get-BenchPwsh

$rows = [Collections.Generic.List[object]]::new()
function Add-Row($DumpName, $Tool, $Types, $ProcessMs, $InProcessMs, $WarmMs, $PeakKiB, $Result) {
    $rows.Add([pscustomobject]@{
        Dump = $DumpName; Tool = $Tool; Types = $Types; ProcessMs = Format-BenchMs $ProcessMs; InProcessMs = Format-BenchMs $InProcessMs
        WarmMs = Format-BenchMs $WarmMs; PeakMiB = Format-BenchMiB $PeakKiB; Result = $Result
        _ms = $ProcessMs; _in = $InProcessMs; _peak = $PeakKiB
    })
}

foreach ($d in $dumps) {
    $file = $d.Files[0]
    foreach ($ts in 'None', 'Btf', 'Dwarf') {
        if ($ts -ne 'None' -and -not $vm) { continue }
        $a = @($pwsh.Prefix) + @('-NoProfile', '-NonInteractive', '-File', $PSCommandPath, '-Child', '-ModulePath', $ModulePath, '-Dump', $file, '-TypeSource', $ts, '-Warm', $Warm)
        if ($vm) { $a += @('-Vmlinux', $vm) }
        $p = Invoke-BenchProcess -FilePath $pwsh.Exe -ArgumentList $a
        $j = $null
        $line = @($p.Output -split "`n" | Where-Object { $_ -like '{*' }) | Select-Object -Last 1
        if ($line) { try { $j = $line | ConvertFrom-Json } catch { $j = $null } }
        $label = @{ None = 'none (dump kallsyms+BTF)'; Btf = 'vmlinux .BTF'; Dwarf = 'vmlinux DWARF' }[$ts]
        if (-not $j) { Add-Row $d.Name 'Kdump' $label $null $null $null $null "failed: exit $($p.ExitCode) $($p.Error.Trim())"; continue }
        if ($j.PSObject.Properties['Error']) { Add-Row $d.Name 'Kdump' $label $null $null $null $null "error: $($j.Error)"; continue }
        # the child's own VmHWM after the first lookup: /usr/bin/time's figure would include pwsh's exit and the warm runs
        Add-Row $d.Name 'Kdump' $label $p.Ms ($j.ImportMs + $j.OpenMs + $j.LookupMs) $j.WarmMs $j.PeakKiB "pid=$($j.Result)"
    }
    if ($crash -and $vm) {
        $c = Invoke-BenchCrash $crash $vm @($file) @('struct task_struct.pid init_task')
        $res = if ($c.Output -match 'pid = (\d+)') { "pid=$($Matches[1])" } else { "failed: exit $($c.ExitCode) $((@(($c.Output + $c.Error) -split "`n" | Where-Object { $_.Trim() }) | Select-Object -Last 1))" }
        $ms = if ($res -like 'pid=*') { $c.Ms } else { $null }
        Add-Row $d.Name $crash.Version 'vmlinux DWARF' $ms $null $null $c.PeakKiB $res
    }
    foreach ($g in $drgns) {
        foreach ($withVm in @($true, $false)) {
            if ($withVm -and -not $vm) { continue }
            $r = Invoke-BenchDrgn $g 'lookup' $file $(if ($withVm) { $vm } else { '' })
            $label = if ($withVm) { 'vmlinux DWARF' } else { 'none (dump kallsyms)' }
            if ($r.Error) { Add-Row $d.Name $g.Name $label $null $null $null $null "failed: $($r.Error)"; continue }
            $res = if ($withVm) { "pid=$($r.Result)" } else { "$($r.Result); no types" }
            Add-Row $d.Name $g.Name $label $r.Ms ($r.OpenMs + $r.WorkMs) $null $r.PeakKiB $res
        }
    }
}
Remove-BenchTemp

$rows | Format-Table Dump, Tool, Types, ProcessMs, InProcessMs, WarmMs, PeakMiB, Result -AutoSize | Out-String -Width 250 | Write-Host
Write-Host 'ProcessMs: whole process, start to exit (ours includes pwsh start and Import-Module). InProcessMs: Import-Module (or import drgn) + open + first lookup. WarmMs: open + lookup again in the same process (median). PeakMiB: maximum resident set.'

# Ratios: theirs / ours for the same dump. crash and drgn-with-vmlinux against each of our type sources; drgn with no
# vmlinux against ours with none (drgn then only finds the symbol: it has no types, so it is not the same work).
$ratios = foreach ($d in $dumps) {
    $ours = @($rows | Where-Object { $_.Dump -eq $d.Name -and $_.Tool -eq 'Kdump' -and $null -ne $_._ms })
    $theirs = @($rows | Where-Object { $_.Dump -eq $d.Name -and $_.Tool -ne 'Kdump' -and $null -ne $_._ms })
    foreach ($o in $ours) {
        foreach ($t in $theirs) {
            $oursNone = $o.Types -like 'none*'; $theirsNone = $t.Types -like 'none*'
            if ($oursNone -ne $theirsNone -and -not ($oursNone -and $t.Tool -like 'crash*')) { continue }
            [pscustomobject]@{
                Dump = $d.Name; Ours = $o.Types; Theirs = "$($t.Tool), $($t.Types)"
                'Time x' = Get-BenchRatio $t._ms $o._ms
                'InProcess x' = Get-BenchRatio $t._in $o._in
                'Peak x' = Get-BenchRatio $t._peak $o._peak
            }
        }
    }
}
if ($ratios) {
    $ratios | Format-Table -AutoSize | Out-String -Width 250 | Write-Host
    Write-Host 'Ratios are theirs / ours (above 1: we are faster or use less memory). crash is compared with each of our modes: it has no mode without the DWARF vmlinux.'
}
foreach ($n in $notes) { Write-Host $n }
