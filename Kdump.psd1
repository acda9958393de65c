@{
    RootModule           = 'Kdump.PowerShell.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '5b0e6f51-3c0a-4b7e-9d7a-6f1d2f0e8a41'
    Author               = 'Kdump developers'
    Copyright            = '(c) Kdump developers. MIT License.'
    Description          = 'Open Linux kernel crash dumps (vmcores) and answer the questions crash answers - sys, ps, vm, files, irq, ipcs, swap, log, bt, mod - as objects; configure kdump (crashkernel=, kdump.conf).'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('Kdump.Format.ps1xml')
    CmdletsToExport      = @(
        'Open-Vmcore', 'Get-Vmcore', 'Close-Vmcore',
        'Get-CrashSystem', 'Get-CrashProcess', 'Get-CrashBacktrace', 'Get-CrashLog', 'Get-CrashVm', 'Get-CrashFile',
        'Get-CrashIrq', 'Get-CrashIpc', 'Get-CrashSwap', 'Get-CrashMemoryInfo', 'Get-CrashModule', 'Get-CrashWaitQueue',
        'Get-CrashSymbol', 'Get-CrashType', 'Get-CrashObject', 'Convert-CrashAddress', 'Read-CrashMemory',
        'Get-CrashRunQueue', 'Get-CrashTimer', 'Get-CrashSignal', 'Get-CrashTriage', 'Compare-CrashDump',
        'Get-KdumpConfig', 'Set-KdumpConfig', 'Test-KdumpConfig', 'Get-KdumpStatus'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('kdump', 'vmcore', 'crash', 'linux', 'kernel', 'makedumpfile')
            LicenseUri = 'https://opensource.org/licenses/MIT'
            ProjectUri = 'https://github.com/kdump-developers/Kdump'
        }
    }
}
