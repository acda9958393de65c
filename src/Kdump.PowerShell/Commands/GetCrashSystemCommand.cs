using System.Management.Automation;
using Kdump.Engine.Linux.Sys;
using Kdump.Engine.Model;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashSystem: the crashed system at a glance (crash's <c>sys</c>): kernel and dump, CPUs (and offline ones),
/// crash date, uptime, load average, task count, utsname, memory, the panic message and the panic task.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashSystem")]
[OutputType(typeof(CrashSystem))]
public sealed class GetCrashSystemCommand : VmcoreCommandBase
{
    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        TryEngine(() => WriteObject(SystemInfo.Read(v, Cancellation, WriteWarning)), v);
    }
}
