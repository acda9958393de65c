using System.Management.Automation;
using Kdump.Engine.Linux.Swap;
using Kdump.Engine.Model;

namespace Kdump.PowerShell.Commands;

/// <summary>Get-CrashSwap: the swap devices and files in use at the crash (crash's swap, /proc/swaps).</summary>
[Cmdlet(VerbsCommon.Get, "CrashSwap")]
[OutputType(typeof(CrashSwap))]
public sealed class GetCrashSwapCommand : VmcoreCommandBase
{
    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        SwapReader? reader = null;
        if (!TryEngine(() => reader = new SwapReader(v.Kernel), v)) return;
        TryEngine(() =>
        {
            int n = 0;
            foreach (var s in reader!.Enumerate(ex => WriteKdumpError(ex))) { WriteObject(s); n++; }
            if (n == 0) WriteVerbose("No swap area is in use.");
        }, v);
    }
}
