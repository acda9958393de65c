#requires -Version 7.4
# Runs the Pester suite against the built module in this (child) pwsh and writes the counts as JSON.
param(
    [Parameter(Mandatory)] [string] $PesterPath,
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $ResultPath
)
$ErrorActionPreference = 'Stop'
Import-Module $PesterPath -Force
$env:KDUMP_MODULE_PATH = $ModulePath
$cfg = New-PesterConfiguration
$cfg.Run.Path = $PSScriptRoot
$cfg.Run.PassThru = $true
$cfg.Output.RenderMode = 'Plaintext'
$cfg.Output.Verbosity = 'Normal'
$r = Invoke-Pester -Configuration $cfg
[pscustomobject]@{ Passed = $r.PassedCount; Failed = $r.FailedCount + $r.FailedBlocksCount + $r.FailedContainersCount; Skipped = $r.SkippedCount + $r.NotRunCount } |
    ConvertTo-Json | Set-Content -Path $ResultPath
