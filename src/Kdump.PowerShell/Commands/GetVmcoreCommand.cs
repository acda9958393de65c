using System.Management.Automation;
using Kdump.Engine.Model;
using Kdump.PowerShell.Session;

namespace Kdump.PowerShell.Commands;

/// <summary>Get-Vmcore: the dumps open in this session (or only the current one).</summary>
[Cmdlet(VerbsCommon.Get, "Vmcore")]
[OutputType(typeof(Vmcore))]
public sealed class GetVmcoreCommand : KdumpCmdlet
{
    [Parameter]
    public SwitchParameter Current { get; set; }

    protected override void EndProcessing()
    {
        var session = VmcoreSession.Current;
        if (Current)
        {
            if (session.CurrentVmcore is { IsOpen: true } c) WriteObject(c);
            return;
        }
        foreach (var v in session.Open) WriteObject(v);
    }
}
