<#
.SYNOPSIS
    Shared helpers for the bench/*.ps1 scripts (dot-source it; it is not a benchmark itself, build.ps1 skips it).
.DESCRIPTION
    Dump discovery from the samples' and fixtures' manifests, the debug vmlinux, crash 8.0.6 from the fixture
    generator's side root, drgn (Debian 12's python3-drgn and Debian 13's 0.0.31 through a side root), a child-process
    runner that reports wall time and peak resident memory (/usr/bin/time when present, else the child's own report),
    medians and ratio formatting. A tool that is missing is reported as "skipped: <why>", never as a failure.
#>


$script:BenchHome = [Environment]::GetFolderPath('UserProfile')
$script:BenchRepo = Split-Path -Parent $PSScriptRoot
$script:BenchCacheRoots = @($env:KDUMP_FIXTURES, (Join-Path $script:BenchHome '.cache/kdump-fixtures')) | Where-Object { $_ } | Select-Object -Unique

function Get-BenchMedian([double[]] $Values) {
    if (-not $Values -or $Values.Count -eq 0) { return $null }
    $s = @($Values | Sort-Object); $s[[int][math]::Floor(($s.Count - 1) / 2)]
}

# their / ours, rounded; 'n/a' when either side is missing. Above 1: we are faster (or smaller).
function Get-BenchRatio($Theirs, $Ours) {
    if ($null -eq $Theirs -or $null -eq $Ours -or $Theirs -isnot [ValueType] -or $Ours -isnot [ValueType] -or [double]$Ours -le 0) { return 'n/a' }
    [math]::Round([double]$Theirs / [double]$Ours, 2)
}

function Get-BenchManifest([string] $Dir) {
    if (-not $Dir) { return $null }
    $m = Join-Path $Dir 'manifest.json'
    if (-not (Test-Path $m)) { return $null }
    Get-Content -Raw $m | ConvertFrom-Json
}

# Every dump of the samples and fixtures manifests: Name ("dir/name"), Files (full paths), Format, Bytes.
function Get-BenchDump([string[]] $Dirs, [string[]] $Format, [switch] $SingleFile) {
    foreach ($dir in $Dirs) {
        $m = Get-BenchManifest $dir
        if (-not $m) { continue }
        foreach ($d in $m.dumps) {
            if ($Format -and $d.format -notin $Format) { continue }
            if ($SingleFile -and @($d.files).Count -ne 1) { continue }
            $files = @($d.files | ForEach-Object { Join-Path $dir $_ })
            if (@($files | Where-Object { -not (Test-Path $_) }).Count) { continue }
            [pscustomobject]@{
                Name = "$(Split-Path -Leaf $dir)/$($d.name)"; Short = $d.name; Files = $files; Format = $d.format
                Bytes = $d.bytes; Dir = $dir
            }
        }
    }
}

# The dbg package's vmlinux (DWARF + .BTF): $env:KDUMP_VMLINUX_DEBUG, the fixtures manifest, /work/cache-dbg, the cache.
function Find-BenchVmlinux([string] $FixturesPath, [string] $SamplesPath) {
    $candidates = [Collections.Generic.List[string]]::new()
    if ($env:KDUMP_VMLINUX_DEBUG) { $candidates.Add($env:KDUMP_VMLINUX_DEBUG) }
    $fm = Get-BenchManifest $FixturesPath
    if ($fm -and $fm.PSObject.Properties['vmlinuxDebug'] -and $fm.vmlinuxDebug) { $candidates.Add($fm.vmlinuxDebug) }
    $rel = $null
    foreach ($m in @($fm, (Get-BenchManifest $SamplesPath))) { if ($m -and -not $rel) { $rel = $m.release } }
    foreach ($root in @('/work/cache-dbg') + @($script:BenchCacheRoots | ForEach-Object {
                Get-ChildItem (Join-Path $_ 'cache') -Directory -Filter 'dbg-*' -ErrorAction SilentlyContinue | ForEach-Object FullName })) {
        $boot = Join-Path $root 'usr/lib/debug/boot'
        if ($rel) { $candidates.Add((Join-Path $boot "vmlinux-$rel")) }
        Get-ChildItem $boot -Filter 'vmlinux-*' -ErrorAction SilentlyContinue | ForEach-Object { $candidates.Add($_.FullName) }
    }
    $candidates | Where-Object { $_ -and (Test-Path $_ -PathType Leaf) } | Select-Object -First 1
}

function Find-BenchTimeExe {
    foreach ($p in '/usr/bin/time', '/bin/time') { if (Test-Path $p -PathType Leaf) { return $p } }
    $null
}

# crash 8.0.6 from the fixture generator's side root: @{ Root; Script; Version } or a string saying why not.
function Find-BenchCrash {
    $script = Join-Path $script:BenchRepo 'tests/fixtures/sideroot.sh'
    if (-not (Test-Path $script)) { return 'tests/fixtures/sideroot.sh is missing' }
    if (-not (Get-Command bash -CommandType Application -ErrorAction SilentlyContinue)) { return 'bash is not installed' }
    $root = $script:BenchCacheRoots | ForEach-Object { Join-Path $_ 'cache/sideroot-trixie' } |
        Where-Object { Test-Path (Join-Path $_ 'root/usr/bin/crash') } | Select-Object -First 1
    if (-not $root) { return 'no crash in the fixture side root (run tests/fixtures/generate.sh with KDUMP_FIXTURES_DBG=1)' }
    $ver = (& bash $script version $root crash 2>$null) -join ''
    [pscustomobject]@{ Root = $root; Script = $script; Version = if ($ver) { "crash $ver" } else { 'crash' } }
}

# drgn runners: Debian 12's python3-drgn (/usr/bin/python3) and Debian 13's 0.0.31 unpacked in a side root
# (<cache>/sideroot-drgn-trixie: `sideroot.sh install ROOT python3-drgn python3.13 ...`). Returns runner objects
# (Name, Exe, Prefix args, Env) and, for the missing ones, strings saying why.
function Find-BenchDrgn {
    $probe = 'import drgn,sys; sys.stdout.write(drgn.__version__)'
    if (Test-Path '/usr/bin/python3') {
        $r = Invoke-BenchProcess -FilePath '/usr/bin/python3' -ArgumentList @('-c', $probe) -TimeoutSeconds 30
        if ($r.ExitCode -eq 0 -and $r.Output) { [pscustomobject]@{ Name = "drgn $($r.Output.Trim()) (Debian 12)"; Exe = '/usr/bin/python3'; Prefix = @(); Env = @{} } }
        else { "drgn (Debian 12): python3-drgn is not installed (apt-get install python3-drgn)" }
    } else { 'drgn (Debian 12): /usr/bin/python3 is missing' }
    $script = Join-Path $script:BenchRepo 'tests/fixtures/sideroot.sh'
    $root = $script:BenchCacheRoots | ForEach-Object { Join-Path $_ 'cache/sideroot-drgn-trixie' } |
        Where-Object { Test-Path (Join-Path $_ 'root/usr/lib/python3/dist-packages/drgn') } | Select-Object -First 1
    if (-not $root) { 'drgn (Debian 13): no side root with python3-drgn (sideroot.sh install <cache>/sideroot-drgn-trixie python3-drgn python3.13 ...)'; return }
    $env13 = @{ PYTHONHOME = Join-Path $root 'root/usr'; PYTHONPATH = Join-Path $root 'root/usr/lib/python3/dist-packages' }
    $r = Invoke-BenchProcess -FilePath 'bash' -ArgumentList @($script, 'run', $root, 'python3.13', '-c', $probe) -Environment $env13 -TimeoutSeconds 60
    if ($r.ExitCode -eq 0 -and $r.Output) { [pscustomobject]@{ Name = "drgn $($r.Output.Trim()) (Debian 13)"; Exe = 'bash'; Prefix = @($script, 'run', $root, 'python3.13'); Env = $env13 } }
    else { "drgn (Debian 13): the side root's python3.13 cannot import drgn: $($r.Error.Trim())" }
}

# Runs a program, returns Ms (wall, this side), PeakKiB (max RSS from /usr/bin/time, else $null), ExitCode, Output,
# Error. Never throws for a failing or missing program; kills it after TimeoutSeconds.
function Invoke-BenchProcess([string] $FilePath, [string[]] $ArgumentList, [hashtable] $Environment = @{}, [int] $TimeoutSeconds = 600, [string] $StandardInput) {
    $timeExe = Find-BenchTimeExe
    $peakFile = if ($timeExe) { Join-Path ([IO.Path]::GetTempPath()) "kdump-bench-time-$PID-$([guid]::NewGuid().ToString('N')).txt" }
    $psi = [Diagnostics.ProcessStartInfo]::new()
    if ($timeExe) {
        $psi.FileName = $timeExe
        foreach ($a in @('-f', '%M', '-o', $peakFile, $FilePath) + @($ArgumentList)) { $psi.ArgumentList.Add($a) }
    } else {
        $psi.FileName = $FilePath
        foreach ($a in $ArgumentList) { $psi.ArgumentList.Add($a) }
    }
    foreach ($k in $Environment.Keys) { $psi.Environment[$k] = [string]$Environment[$k] }
    $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.RedirectStandardInput = $true
    $psi.UseShellExecute = $false
    $result = [pscustomobject]@{ Ms = $null; PeakKiB = $null; ExitCode = -1; Output = ''; Error = '' }
    $sw = [Diagnostics.Stopwatch]::StartNew()
    try { $p = [Diagnostics.Process]::Start($psi) }
    catch { $result.Error = $_.Exception.Message; return $result }
    try {
        $out = $p.StandardOutput.ReadToEndAsync(); $err = $p.StandardError.ReadToEndAsync()
        if ($StandardInput) { $p.StandardInput.Write($StandardInput) }
        $p.StandardInput.Close()
        if (-not $p.WaitForExit($TimeoutSeconds * 1000)) {
            $p.Kill($true); $p.WaitForExit()
            $result.Error = "timed out after $TimeoutSeconds s"; return $result
        }
        $p.WaitForExit()
        $result.Ms = $sw.Elapsed.TotalMilliseconds
        $result.ExitCode = $p.ExitCode
        $result.Output = $out.GetAwaiter().GetResult(); $result.Error = $err.GetAwaiter().GetResult()
        if ($peakFile -and (Test-Path $peakFile)) {
            $kib = (Get-Content $peakFile | Where-Object { $_ -match '^\d+$' } | Select-Object -Last 1)
            if ($kib) { $result.PeakKiB = [long]$kib }
        }
    } finally {
        $p.Dispose()
        if ($peakFile) { Remove-Item $peakFile -ErrorAction SilentlyContinue }
    }
    $result
}

# One crash session: `crash -s VMLINUX DUMP -i CMDFILE` with the given commands then exit.
function Invoke-BenchCrash($Crash, [string] $Vmlinux, [string[]] $Dump, [string[]] $Command, [int] $TimeoutSeconds = 600) {
    $cmdFile = Join-Path ([IO.Path]::GetTempPath()) "kdump-bench-crash-$PID-$([guid]::NewGuid().ToString('N')).txt"
    Set-Content -Path $cmdFile -Value (@($Command | Where-Object { $_ }) + 'exit') -Encoding ascii
    try { Invoke-BenchProcess -FilePath 'bash' -ArgumentList (@($Crash.Script, 'run', $Crash.Root, 'crash', '-s', $Vmlinux) + $Dump + @('-i', $cmdFile)) -TimeoutSeconds $TimeoutSeconds }
    finally { Remove-Item $cmdFile -ErrorAction SilentlyContinue }
}

# The drgn side: Mode 'lookup' (init_task.pid; with no vmlinux only the kallsyms symbol, drgn has no types then)
# or 'ps' (for_each_task, reading pid and comm of each). Prints one JSON line: version, result or error, openMs,
# workMs, maxRssKiB.
$script:BenchDrgnScript = @'
import sys, time, json, resource
t0 = time.perf_counter()
import drgn
mode, dump = sys.argv[1], sys.argv[2]
vmlinux = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
r = {'version': drgn.__version__}
try:
    prog = drgn.Program()
    prog.set_core_dump(dump)
    if vmlinux:
        prog.load_debug_info([vmlinux])
    else:
        try:
            from drgn.helpers.linux.kallsyms import load_vmlinux_kallsyms
        except ImportError:
            raise RuntimeError('this drgn has no kallsyms finder (drgn.helpers.linux.kallsyms): it needs a vmlinux')
        prog.register_symbol_finder('kallsyms', load_vmlinux_kallsyms(prog), enable_index=0)
    t1 = time.perf_counter()
    r['openMs'] = (t1 - t0) * 1000
    if mode == 'lookup':
        r['result'] = str(int(prog['init_task'].pid)) if vmlinux else 'init_task@%x (symbol only)' % prog.symbol('init_task').address
    else:
        from drgn.helpers.linux.pid import for_each_task
        n = 0
        for t in for_each_task(prog):
            int(t.pid); t.comm.string_(); n += 1
        r['result'] = n
    r['workMs'] = (time.perf_counter() - t1) * 1000
except Exception as e:
    r['error'] = '%s: %s' % (type(e).__name__, str(e).splitlines()[0] if str(e) else '')
r['maxRssKiB'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps(r))
'@

function Invoke-BenchDrgn($Drgn, [string] $Mode, [string] $Dump, [string] $Vmlinux, [int] $TimeoutSeconds = 600) {
    $py = Join-Path ([IO.Path]::GetTempPath()) "kdump-bench-drgn-$PID.py"
    if (-not (Test-Path $py)) { Set-Content -Path $py -Value $script:BenchDrgnScript -Encoding utf8 }
    $r = Invoke-BenchProcess -FilePath $Drgn.Exe -ArgumentList (@($Drgn.Prefix) + @($py, $Mode, $Dump, [string]$Vmlinux)) -Environment $Drgn.Env -TimeoutSeconds $TimeoutSeconds
    $j = $null
    $line = @($r.Output -split "`n" | Where-Object { $_ -like '{*' }) | Select-Object -Last 1
    if ($line) { try { $j = $line | ConvertFrom-Json } catch { $j = $null } }
    $err = if (-not $j) { "exit $($r.ExitCode): $((@($r.Error -split "`n" | Where-Object { $_.Trim() }) | Select-Object -Last 1))" }
           elseif ($j.PSObject.Properties['error']) { $j.error } else { $null }
    [pscustomobject]@{
        Ms = $r.Ms; PeakKiB = if ($r.PeakKiB) { $r.PeakKiB } elseif ($j) { [long]$j.maxRssKiB } else { $null }
        OpenMs = if ($j -and $j.PSObject.Properties['openMs']) { [double]$j.openMs } else { $null }
        WorkMs = if ($j -and $j.PSObject.Properties['workMs']) { [double]$j.workMs } else { $null }
        Result = if ($j -and $j.PSObject.Properties['result']) { $j.result } else { $null }
        Error = $err
    }
}

function Remove-BenchTemp { Remove-Item (Join-Path ([IO.Path]::GetTempPath()) "kdump-bench-drgn-$PID.py") -ErrorAction SilentlyContinue }

# The pwsh running this script: a local .NET tool runs as 'dotnet pwsh.dll', so children start the same way.
function Get-BenchPwsh {
    $exe = [Environment]::ProcessPath
    $pre = @()
    if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { $pre = @(Join-Path $PSHOME 'pwsh.dll') }
    [pscustomobject]@{ Exe = $exe; Prefix = $pre }
}

# This process's peak resident set (VmHWM) in KiB, or the .NET peak working set when /proc is not there.
function Get-BenchPeakKiB {
    $status = '/proc/self/status'
    if (Test-Path $status) {
        $l = Select-String -Path $status -Pattern '^VmHWM:\s+(\d+)\s+kB' | Select-Object -First 1
        if ($l) { return [long]$l.Matches[0].Groups[1].Value }
    }
    [long]([Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64 / 1KB)
}

function Format-BenchMiB($KiB) { if ($null -eq $KiB -or $KiB -isnot [ValueType]) { 'n/a' } else { [math]::Round($KiB / 1024, 1) } }
function Format-BenchMs($Ms) { if ($null -eq $Ms -or $Ms -isnot [ValueType]) { 'n/a' } else { [math]::Round($Ms, 1) } }

if ($MyInvocation.InvocationName -ne '.') { Write-Host 'common.ps1: shared helpers dot-sourced by the other bench scripts; nothing to time.' }
