#requires -Version 7.4
<#
.SYNOPSIS
    Builds, documents, tests, demonstrates and benchmarks the Kdump module.
.EXAMPLE
    dotnet tool restore; dotnet pwsh -NoProfile -File build.ps1 -Task Demo
.EXAMPLE
    dotnet pwsh -NoProfile -File build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Help', 'Test', 'Demo', 'Bench', 'Fixtures', 'Clean')]
    [string[]] $Task = 'Build',
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',
    # Run the tests without building the real-dump fixtures (tests that need them are skipped and counted as such).
    [switch] $SkipFixtures,
    # Test: also generate (when not cached) the Debian 13 (6.12) and Debian unstable (7.x) fixture sets and run the
    # real-dump tests on them. Without it those sets are tested only when they are cached already.
    [switch] $AllKernels
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3
$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleDir = Join-Path $Out 'Kdump'
$PesterVersion = '5.9.1'

function Invoke-Native([string] $What, [scriptblock] $Command) {
    & $Command
    if ($LASTEXITCODE -ne 0) { throw "$What failed with exit code $LASTEXITCODE" }
}

# The pwsh running this script: a local .NET tool runs as 'dotnet pwsh.dll', so start children the same way.
function Invoke-ChildPwsh([string[]] $Arguments) {
    $exe = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { & $exe (Join-Path $PSHOME 'pwsh.dll') @Arguments }
    else { & $exe @Arguments }
}

function Invoke-Build {
    Write-Host "==> Build ($Configuration)"
    if (Test-Path $ModuleDir) { Remove-Item $ModuleDir -Recurse -Force }
    Invoke-Native 'dotnet publish' {
        dotnet publish (Join-Path $Root 'src/Kdump.PowerShell/Kdump.PowerShell.csproj') -c $Configuration -o $ModuleDir --nologo -v quiet
    }
    Get-ChildItem $ModuleDir -Filter '*.pdb' | Where-Object Name -notlike 'Kdump.*' | Remove-Item
    Get-ChildItem $ModuleDir -Filter '*.deps.json' | Remove-Item
    Copy-Item (Join-Path $Root 'Kdump.psd1') $ModuleDir
    Merge-Formats
    Invoke-Help
}

# Views live next to the cmdlets that emit them (src/Kdump.PowerShell/Format/*.ps1xml); the module ships one file.
function Merge-Formats {
    $sb = [System.Text.StringBuilder]::new()
    [void]$sb.AppendLine('<?xml version="1.0" encoding="utf-8"?>')
    [void]$sb.AppendLine('<Configuration>')
    [void]$sb.AppendLine('  <ViewDefinitions>')
    foreach ($f in Get-ChildItem (Join-Path $Root 'src/Kdump.PowerShell/Format') -Filter '*.ps1xml' | Sort-Object Name) {
        [xml]$x = Get-Content -Raw $f.FullName
        foreach ($v in $x.Configuration.ViewDefinitions.View) { [void]$sb.AppendLine('    ' + $v.OuterXml) }
    }
    [void]$sb.AppendLine('  </ViewDefinitions>')
    [void]$sb.AppendLine('</Configuration>')
    Set-Content -Path (Join-Path $ModuleDir 'Kdump.Format.ps1xml') -Value $sb.ToString() -Encoding utf8NoBOM
}

function Invoke-Help {
    Write-Host '==> Help (docs/help -> MAML)'
    $dest = Join-Path $ModuleDir 'en-US'
    New-Item -ItemType Directory -Force $dest | Out-Null
    & (Join-Path $Root 'tools/ConvertTo-Maml.ps1') -Path (Join-Path $Root 'docs/help') -OutputPath (Join-Path $dest 'Kdump.PowerShell.dll-Help.xml')
    foreach ($about in Get-ChildItem (Join-Path $Root 'docs/help') -Filter 'about_*.md') {
        ConvertTo-AboutHelp $about.FullName (Join-Path $dest ($about.BaseName + '.help.txt'))
    }
}

# docs/help/about_*.md (headings, paragraphs, fenced code) -> the plain-text about_ topic Get-Help reads.
function ConvertTo-AboutHelp([string] $Source, [string] $Destination) {
    $out = [System.Collections.Generic.List[string]]::new()
    $inCode = $false
    foreach ($line in Get-Content $Source) {
        if ($line -match '^```') { $inCode = -not $inCode; continue }
        if ($inCode) { $out.Add('        ' + $line); continue }
        if ($line -match '^# (.+)$') { $out.Add('TOPIC'); $out.Add('    ' + $Matches[1].Trim()); continue }
        if ($line -match '^## (.+)$') { $out.Add(''); $out.Add($Matches[1].Trim().ToUpperInvariant()); continue }
        if ($line -match '^### (.+)$') { $out.Add(''); $out.Add('  ' + $Matches[1].Trim().ToUpperInvariant()); continue }
        $out.Add($(if ($line) { '    ' + $line } else { '' }))
    }
    Set-Content -Path $Destination -Value $out -Encoding utf8NoBOM
    Write-Host "Help: $([IO.Path]::GetFileName($Destination))"
}

function Get-FixtureDir {
    if ($env:KDUMP_FIXTURES_DIR -and (Test-Path (Join-Path $env:KDUMP_FIXTURES_DIR 'manifest.json'))) { return $env:KDUMP_FIXTURES_DIR }
    $gen = Join-Path $Root 'tests/fixtures/generate.sh'
    if (-not (Test-Path $gen)) { return $null }
    Write-Host '==> Fixtures (real dumps; cached after the first run)'
    # The agreement tests compare with crash, which needs the DWARF vmlinux: fetch it unless told not to (=0).
    if ($null -eq $env:KDUMP_FIXTURES_DBG) { $env:KDUMP_FIXTURES_DBG = '1' }
    $lines = & bash $gen
    if ($LASTEXITCODE -ne 0) { throw "tests/fixtures/generate.sh failed with exit code $LASTEXITCODE" }
    $dir = @($lines)[-1]
    if (-not $dir -or -not (Test-Path (Join-Path $dir 'manifest.json'))) { throw "tests/fixtures/generate.sh did not produce a manifest (last line: '$dir')" }
    return $dir
}

# The fixture sets of the newer kernels (trixie = 6.12, sid = 7.x): generated with -AllKernels, else only if cached.
function Get-ExtraFixtureDirs {
    $gen = Join-Path $Root 'tests/fixtures/generate.sh'
    if (-not (Test-Path $gen)) { return @() }
    $dirs = @()
    foreach ($suite in 'trixie', 'sid') {
        $env:KDUMP_FIXTURES_SUITE = $suite
        $env:KDUMP_FIXTURES_CACHED_ONLY = if ($AllKernels) { '0' } else { '1' }
        try {
            if ($AllKernels) { Write-Host "==> Fixtures $suite (real dumps; cached after the first run)" }
            $lines = & bash $gen
            if ($LASTEXITCODE -ne 0) { throw "tests/fixtures/generate.sh ($suite) failed with exit code $LASTEXITCODE" }
        } finally { Remove-Item Env:KDUMP_FIXTURES_SUITE, Env:KDUMP_FIXTURES_CACHED_ONLY -ErrorAction SilentlyContinue }
        $dir = @($lines | Where-Object { $_ }) | Select-Object -Last 1
        if ($dir -and (Test-Path (Join-Path $dir 'manifest.json'))) { $dirs += $dir; Write-Host "Fixtures ($suite): $dir" }
        else { Write-Host "Fixtures ($suite): not cached, not tested (build.ps1 -Task Test -AllKernels makes them)" }
    }
    return $dirs
}

function Invoke-Test {
    Invoke-Build
    if (-not $SkipFixtures) {
        $fx = Get-FixtureDir
        if ($fx) { $env:KDUMP_FIXTURES_DIR = $fx; Write-Host "Fixtures: $fx" }
        $extra = @(Get-ExtraFixtureDirs)
        $env:KDUMP_FIXTURES_EXTRA_DIRS = $extra -join ':'
    }
    $env:KDUMP_SAMPLES_DIR = Join-Path $Root 'samples'
    $results = Join-Path $Out 'TestResults'
    if (Test-Path $results) { Remove-Item $results -Recurse -Force }
    New-Item -ItemType Directory -Force $results | Out-Null

    Write-Host '==> xUnit (tests/Kdump.Engine.Tests)'
    dotnet test (Join-Path $Root 'tests/Kdump.Engine.Tests/Kdump.Engine.Tests.csproj') -c $Configuration --nologo `
        --logger 'trx;LogFileName=engine.trx' --logger 'console;verbosity=minimal' --results-directory $results
    $xunitExit = $LASTEXITCODE
    $xPass = 0; $xFail = 0; $xSkip = 0
    $trx = Join-Path $results 'engine.trx'
    if (Test-Path $trx) {
        [xml]$t = Get-Content -Raw $trx
        $c = $t.TestRun.ResultSummary.Counters
        $xPass = [int]$c.passed; $xFail = [int]$c.failed + [int]$c.error + [int]$c.timeout + [int]$c.aborted
        $xSkip = [int]$c.total - [int]$c.executed
    } elseif ($xunitExit -ne 0) { $xFail = 1 }

    Write-Host '==> Pester (tests/Pester, against the built module)'
    Invoke-Native 'Pester restore' { dotnet restore (Join-Path $Root 'tools/Pester/Pester.Restore.csproj') --nologo -v quiet }
    $nugetRoot = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $pesterPsd1 = Join-Path $nugetRoot "pester/$PesterVersion/tools/Pester.psd1"
    if (-not (Test-Path $pesterPsd1)) { throw "Pester $PesterVersion was not restored to $pesterPsd1" }
    $pesterJson = Join-Path $results 'pester.json'
    Invoke-ChildPwsh @('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tests/Pester/Invoke-Pester.ps1'), '-PesterPath', $pesterPsd1, '-ModulePath', $ModuleDir, '-ResultPath', $pesterJson)
    $pPass = 0; $pFail = 0; $pSkip = 0
    if (Test-Path $pesterJson) {
        $p = Get-Content -Raw $pesterJson | ConvertFrom-Json
        $pPass = $p.Passed; $pFail = $p.Failed; $pSkip = $p.Skipped
    } else { $pFail = 1 }

    $passed = $xPass + $pPass; $failed = $xFail + $pFail; $skipped = $xSkip + $pSkip
    Write-Host "xUnit: $xPass passed, $xFail failed, $xSkip skipped; Pester: $pPass passed, $pFail failed, $pSkip skipped"
    Write-Host "Tests: $passed passed, $failed failed, $skipped skipped"
    if ($failed -gt 0 -or ($xunitExit -ne 0 -and $xFail -eq 0)) { exit 1 }
}

function Invoke-Demo {
    if (-not (Test-Path (Join-Path $ModuleDir 'Kdump.psd1'))) { Invoke-Build }
    Invoke-ChildPwsh @('-NoProfile', '-NonInteractive', '-File', (Join-Path $Root 'tools/Demo.ps1'), '-ModulePath', $ModuleDir, '-SamplesPath', (Join-Path $Root 'samples'))
    if ($LASTEXITCODE -ne 0) { throw "Demo failed with exit code $LASTEXITCODE" }
}

function Invoke-Bench {
    if (-not (Test-Path (Join-Path $ModuleDir 'Kdump.psd1'))) { Invoke-Build }
    $fx = if ($SkipFixtures) { $null } else { Get-FixtureDir }
    foreach ($b in Get-ChildItem (Join-Path $Root 'bench') -Filter '*.ps1' | Where-Object Name -ne 'common.ps1' | Sort-Object Name) {
        Write-Host "==> Bench $($b.Name)"
        $benchArgs = @('-NoProfile', '-NonInteractive', '-File', $b.FullName, '-ModulePath', $ModuleDir, '-SamplesPath', (Join-Path $Root 'samples'))
        if ($fx) { $benchArgs += @('-FixturesPath', $fx) }
        Invoke-ChildPwsh $benchArgs
    }
}

foreach ($t in $Task) {
    switch ($t) {
        'Clean' { if (Test-Path $Out) { Remove-Item $Out -Recurse -Force } }
        'Build' { Invoke-Build }
        'Help' { if (-not (Test-Path $ModuleDir)) { Invoke-Build } else { Invoke-Help } }
        'Fixtures' { $d = Get-FixtureDir; Write-Host "Fixtures: $d" }
        'Test' { Invoke-Test }
        'Demo' { Invoke-Demo }
        'Bench' { Invoke-Bench }
    }
}
