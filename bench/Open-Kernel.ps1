<#
.SYNOPSIS
    Benchmark: open a dump and make the first typed lookup with no debuginfo (kallsyms + BTF from the dump).
.DESCRIPTION
    For each dump (the committed sample and, when given, the fixtures' dumps) prints: time to open the dump, to
    decode kallsyms, to load the kernel's BTF, to find 'struct task_struct' and read init_task.comm, plus the
    process's peak working set. With python3-drgn installed, also times drgn loading kallsyms from the same ELF
    dumps (optional; drgn cannot read kdump-compressed files without libkdumpfile).
#>
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [string] $FixturesPath,
    [string] $SamplesPath
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $ModulePath 'Kdump.psd1') -Force

$dumps = [Collections.Generic.List[string]]::new()
if ($SamplesPath -and (Test-Path (Join-Path $SamplesPath 'manifest.json'))) {
    $m = Get-Content -Raw (Join-Path $SamplesPath 'manifest.json') | ConvertFrom-Json
    foreach ($d in $m.dumps) { $dumps.Add((Join-Path $SamplesPath $d.files[0])) }
}
if ($FixturesPath -and (Test-Path (Join-Path $FixturesPath 'manifest.json'))) {
    $m = Get-Content -Raw (Join-Path $FixturesPath 'manifest.json') | ConvertFrom-Json
    foreach ($d in $m.dumps) { if ($d.files.Count -eq 1) { $dumps.Add((Join-Path $FixturesPath $d.files[0])) } }
}
if ($dumps.Count -eq 0) { Write-Warning 'No dumps found (give -SamplesPath or -FixturesPath).'; return }

$rows = foreach ($path in $dumps) {
    if (-not (Test-Path $path)) { continue }
    $sw = [Diagnostics.Stopwatch]::StartNew()
    $v = Open-Vmcore $path
    $tOpen = $sw.Elapsed.TotalMilliseconds
    $k = $v.Kernel
    $sw.Restart(); $null = $k.FindSymbol('init_task'); $tSyms = $sw.Elapsed.TotalMilliseconds
    $sw.Restart(); $types = $k.TypeFinders; $tBtf = $sw.Elapsed.TotalMilliseconds
    $sw.Restart()
    $task = $k.FindType('struct task_struct')
    $comm = $k.Variable('init_task').Member('comm').ReadString(16)
    $tFirst = $sw.Elapsed.TotalMilliseconds
    $nSyms = ($k.Symbols | Measure-Object -Property Count -Sum).Sum
    [pscustomobject]@{
        Dump = Split-Path $path -Leaf
        OpenMs = [math]::Round($tOpen, 1)
        KallsymsMs = [math]::Round($tSyms, 1)
        BtfMs = [math]::Round($tBtf, 1)
        FirstLookupMs = [math]::Round($tFirst, 1)
        Symbols = $nSyms
        BtfTypes = ($types | ForEach-Object { $_.TypeCount } | Measure-Object -Sum).Sum
        TaskStructSize = $task.Size
        InitComm = $comm
    }
    Close-Vmcore $v
}
$rows | Format-Table -AutoSize | Out-String | Write-Host
$p = [Diagnostics.Process]::GetCurrentProcess()
Write-Host ("Peak working set: {0:N0} MiB" -f ($p.PeakWorkingSet64 / 1MB))

if (Get-Command python3 -ErrorAction SilentlyContinue) {
    $hasDrgn = & python3 -c 'import drgn' 2>$null; if ($LASTEXITCODE -eq 0) {
        foreach ($path in $dumps | Where-Object { $_ -like '*.elf' }) {
            $code = "import time,drgn; t=time.time(); p=drgn.Program(); p.set_core_dump('$path'); from drgn.helpers.linux.kallsyms import load_vmlinux_kallsyms; p.register_symbol_finder('kallsyms', load_vmlinux_kallsyms(p), enable_index=0); p.symbol('init_task'); print('drgn kallsyms %.1f ms' % ((time.time()-t)*1000))"
            & python3 -c $code 2>&1 | Write-Host
        }
    } else { Write-Host 'python3-drgn is not installed: no drgn comparison.' }
}
