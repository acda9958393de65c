# Dot-sourced by every *.Tests.ps1: imports the BUILT module once and exposes paths to samples and fixtures.
$script:ModulePath = if ($env:KDUMP_MODULE_PATH) { $env:KDUMP_MODULE_PATH } else { Join-Path $PSScriptRoot '../../out/Kdump' }
if (-not (Get-Module Kdump)) { Import-Module (Join-Path $script:ModulePath 'Kdump.psd1') -Force }
$script:RepoRoot = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:SamplesDir = Join-Path $script:RepoRoot 'samples'
$script:FixturesDir = $env:KDUMP_FIXTURES_DIR
$script:HaveFixtures = [bool]($script:FixturesDir -and (Test-Path (Join-Path $script:FixturesDir 'manifest.json')))
$script:HaveSample = Test-Path (Join-Path $script:SamplesDir 'manifest.json')
function Get-TestManifest([string] $Dir) { Get-Content -Raw (Join-Path $Dir 'manifest.json') | ConvertFrom-Json }
