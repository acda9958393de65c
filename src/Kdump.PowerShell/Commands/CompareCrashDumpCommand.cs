using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Linux.Triage;
using Kdump.Engine.Model;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Compare-CrashDump: what differs between two dumps' triages (panic class, signature, panic message, RIP, panic
/// command, taint, kernel release, CPUs, blocked tasks, counts of each kind of log finding). Each side is a
/// CrashTriage (Get-CrashTriage's output) or an open dump, triaged on the spot. Nothing is written when they agree.
/// </summary>
[Cmdlet(VerbsData.Compare, "CrashDump")]
[OutputType(typeof(CrashTriageDifference))]
public sealed class CompareCrashDumpCommand : KdumpCmdlet
{
    /// <summary>The reference: a CrashTriage or a Vmcore.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNull]
    public PSObject Reference { get; set; } = null!;

    /// <summary>The dump compared with the reference: a CrashTriage or a Vmcore (from the pipeline too).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [ValidateNotNull]
    public PSObject Difference { get; set; } = null!;

    private CrashTriage? _reference;

    private CrashTriage? Triage(PSObject o, string name)
    {
        switch (o.BaseObject)
        {
            case CrashTriage t: return t;
            case Vmcore v when v.IsOpen:
                CrashTriage? r = null;
                return TryEngine(() => r = TriageReader.Read(v, null, Cancellation), v) ? r : null;
            case Vmcore v:
                WriteKdumpError(new KdumpException("VmcoreClosed", KdumpErrorKind.InvalidArgument, $"The dump '{v.Path}' has been closed. Open it again with Open-Vmcore.", v), v);
                return null;
            default:
                WriteKdumpError(new KdumpException("CompareInputInvalid", KdumpErrorKind.InvalidArgument,
                    $"-{name} takes a CrashTriage (Get-CrashTriage) or a Vmcore (Open-Vmcore), not {o.BaseObject?.GetType().Name ?? "null"}.", o.BaseObject), o.BaseObject);
                return null;
        }
    }

    protected override void ProcessRecord()
    {
        _reference ??= Triage(Reference, nameof(Reference));
        if (_reference is null) return;
        if (Triage(Difference, nameof(Difference)) is not { } d) return;
        WriteObject(TriageReader.Compare(_reference, d), enumerateCollection: true);
    }
}
