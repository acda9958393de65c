using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Model;
using Kdump.PowerShell.Session;

namespace Kdump.PowerShell;

/// <summary>
/// Base of every cmdlet that analyses a dump: -Vmcore (by property name from the pipeline) or else the current dump
/// of this runspace (the one Open-Vmcore opened last).
/// </summary>
public abstract class VmcoreCommandBase : KdumpCmdlet
{
    /// <summary>The dump to analyse; the current dump (Open-Vmcore's last) when omitted.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    public Vmcore? Vmcore { get; set; }

    /// <summary>The dump this record works on: -Vmcore, else the current one. Stops the cmdlet when there is none.</summary>
    protected Vmcore ResolveVmcore()
    {
        var v = Vmcore ?? VmcoreSession.Current.CurrentVmcore;
        if (v is null)
            ThrowKdumpError(new KdumpException("VmcoreNotOpen", KdumpErrorKind.InvalidArgument,
                "No dump is open. Open one with Open-Vmcore -Path <file>, or pass -Vmcore.", null));
        if (!v!.IsOpen)
            ThrowKdumpError(new KdumpException("VmcoreClosed", KdumpErrorKind.InvalidArgument,
                $"The dump '{v.Path}' has been closed. Open it again with Open-Vmcore.", v));
        return v;
    }
}
