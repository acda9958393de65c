# Dot-sourced by every *.Tests.ps1: imports the BUILT module once and exposes paths to samples and fixtures.
$script:ModulePath = if ($env:KDUMP_MODULE_PATH) { $env:KDUMP_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/Kdump' }
if (-not (Get-Module Kdump)) { Import-Module (Join-Path $script:ModulePath 'Kdump.psd1') -Force }
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:SamplesDir = Join-Path $script:RepoRoot 'samples'
$script:FixturesDir = $env:KDUMP_FIXTURES_DIR
$script:HaveFixtures = [bool]($script:FixturesDir -and (Test-Path (Join-Path $script:FixturesDir 'manifest.json')))
# every kernel's fixture set: KDUMP_FIXTURES_DIR (6.1) and the cached 6.12 / 7.x sets build.ps1 passes in KDUMP_FIXTURES_EXTRA_DIRS
$script:FixturesDirs = @(@($script:FixturesDir) + @(($env:KDUMP_FIXTURES_EXTRA_DIRS -split ':') | Where-Object { $_ }) |
    Where-Object { $_ -and (Test-Path (Join-Path $_ 'manifest.json')) } | Select-Object -Unique)
$script:HaveSample = Test-Path (Join-Path $script:SamplesDir 'manifest.json')
function Get-TestManifest([string] $Dir) { Get-Content -Raw (Join-Path $Dir 'manifest.json') | ConvertFrom-Json }
# The full paths of the dump a fixture set's crash answers (crash/) were made on.
function Get-CrashReferenceDumpFiles([string] $Dir, $Manifest) {
    $ref = @($Manifest.references | Where-Object dir -EQ 'crash')[0]
    $c = @($Manifest.dumps | Where-Object name -EQ $ref.dump)[0]
    @($c.files) | ForEach-Object { Join-Path $Dir $_ }
}
