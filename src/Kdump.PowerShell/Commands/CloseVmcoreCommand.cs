using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Model;
using Kdump.PowerShell.Session;

namespace Kdump.PowerShell.Commands;

/// <summary>Close-Vmcore: closes dumps (the current one when none is given) and releases their files.</summary>
[Cmdlet(VerbsCommon.Close, "Vmcore")]
[OutputType(typeof(void))]
public sealed class CloseVmcoreCommand : KdumpCmdlet
{
    private bool _any;

    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    public Vmcore[]? Vmcore { get; set; }

    protected override void ProcessRecord()
    {
        if (Vmcore is null) return;
        _any = true;
        foreach (var v in Vmcore)
        {
            WriteVerbose($"Closing {v.Name} (Id {v.Id}).");
            VmcoreSession.Current.Close(v);
        }
    }

    protected override void EndProcessing()
    {
        if (_any || MyInvocation.ExpectingInput) return; // an empty pipeline (Get-Vmcore | Close-Vmcore) closes nothing
        var session = VmcoreSession.Current;
        if (session.CurrentVmcore is { } cur)
        {
            WriteVerbose($"Closing the current dump {cur.Name} (Id {cur.Id}).");
            session.Close(cur);
        }
        else
            WriteKdumpError(new KdumpException("VmcoreNotOpen", KdumpErrorKind.InvalidArgument, "No dump is open, so there is nothing to close.", null));
    }
}
