#requires -Version 7.4
# build.ps1 -Task Demo: imports the built module and analyses the real dump committed under samples/.
param(
    [Parameter(Mandatory)] [string] $ModulePath,
    [Parameter(Mandatory)] [string] $SamplesPath
)
$ErrorActionPreference = 'Stop'
Import-Module (Join-Path $ModulePath 'Kdump.psd1') -Force

$manifestPath = Join-Path $SamplesPath 'manifest.json'
if (-not (Test-Path $manifestPath)) { throw "No sample dump: $manifestPath is missing." }
$manifest = Get-Content -Raw $manifestPath | ConvertFrom-Json
$files = @($manifest.dumps[0].files | ForEach-Object { Join-Path $SamplesPath $_ })

function Show([string] $Title, [scriptblock] $Block) {
    Write-Host ''
    Write-Host "PS> $Title" -ForegroundColor Cyan
    & $Block | Out-Host
}
function Has([string] $Name) { [bool](Get-Command $Name -Module Kdump -ErrorAction SilentlyContinue) }

Show "Open-Vmcore $($files -join ',')" { $script:dump = Open-Vmcore -Path $files; $script:dump }
Show 'Open-Vmcore ... | Format-List' { $dump | Format-List }
if (Has 'Get-CrashSystem') { Show 'Get-CrashSystem' { Get-CrashSystem } }
if (Has 'Get-CrashProcess') {
    Show 'Get-CrashProcess -UserSpace' { Get-CrashProcess -UserSpace }
    Show 'Get-CrashProcess -Active' { Get-CrashProcess -Active }
}
if (Has 'Get-CrashFile') { Show "Get-CrashProcess -Name 'kdump-*' | Get-CrashFile" { Get-CrashProcess -Name 'kdump-*' | Get-CrashFile } }
if (Has 'Get-CrashIpc') { Show 'Get-CrashIpc' { Get-CrashIpc } }
if (Has 'Get-CrashSwap') { Show 'Get-CrashSwap' { Get-CrashSwap } }
if (Has 'Get-CrashBacktrace') { Show 'Get-CrashBacktrace' { Get-CrashBacktrace } }
if (Has 'Get-CrashLog') { Show 'Get-CrashLog -Tail 12' { Get-CrashLog -Tail 12 } }
if (Has 'Get-CrashSymbol') { Show 'Get-CrashSymbol -Name sysrq_handle_crash, linux_banner' { Get-CrashSymbol -Name sysrq_handle_crash, linux_banner } }
if (Has 'Get-CrashModule') { Show 'Get-CrashModule' { Get-CrashModule } }
Show 'Read-CrashMemory -PhysicalAddress 0x1000 -Length 64' { Read-CrashMemory -PhysicalAddress 0x1000 -Length 64 }
Close-Vmcore
