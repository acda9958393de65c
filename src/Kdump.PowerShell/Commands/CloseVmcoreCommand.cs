using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Model;
using Kdump.PowerShell.Completers;
using Kdump.PowerShell.Session;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Close-Vmcore: closes dumps (the current one when none is given) and releases their files. Closing the current
/// dump leaves no dump current: it never moves to another open dump behind the user's back.
/// </summary>
[Cmdlet(VerbsCommon.Close, "Vmcore", DefaultParameterSetName = VmcoreSet)]
[OutputType(typeof(void))]
public sealed class CloseVmcoreCommand : KdumpCmdlet
{
    private const string VmcoreSet = "Vmcore";
    private const string PathSet = "Path";
    private bool _any;

    /// <summary>The dumps to close: Vmcore objects (piped), records naming them, Ids, names or paths.</summary>
    [Parameter(Position = 0, ParameterSetName = VmcoreSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(VmcoreCompleter))]
    public VmcoreIdentity[]? Vmcore { get; set; }

    /// <summary>The dumps to close by file path (wildcards allowed): every open dump with such a file is closed.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    protected override void ProcessRecord()
    {
        var session = VmcoreSession.Current;
        if (ParameterSetName == PathSet)
        {
            _any = true;
            foreach (var p in Path)
            {
                string full;
                try { full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(p); }
                catch (Exception ex) when (ex is ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or PSNotSupportedException or ArgumentException)
                {
                    WriteKdumpError(new KdumpException("VmcorePathNotFile", KdumpErrorKind.InvalidArgument, $"'{p}' is not a usable path: {ex.Message}", p, ex), p);
                    continue;
                }
                var pattern = new WildcardPattern(full, WildcardOptions.None);
                var hits = session.Open.Where(v => v.Paths.Any(pattern.IsMatch)).ToList();
                if (hits.Count == 0)
                    WriteKdumpError(new KdumpException("VmcoreNotFound", KdumpErrorKind.NotFound, $"No open dump has the file '{full}'.", p), p);
                foreach (var v in hits) Close(session, v);
            }
            return;
        }
        if (Vmcore is null) return;
        _any = true;
        foreach (var id in Vmcore)
        {
            Vmcore v;
            try { v = session.Resolve(id, p => SessionState.Path.GetUnresolvedProviderPathFromPSPath(p)); }
            catch (KdumpException ex) when (ex.ErrorId == "VmcoreClosed") { WriteVerbose($"{id} is already closed."); continue; }
            catch (KdumpException ex) { WriteKdumpError(ex, id); continue; }
            Close(session, v);
        }
    }

    private void Close(VmcoreSession session, Vmcore v)
    {
        WriteVerbose($"Closing {v.Name} (Id {v.Id}).");
        if (session.Close(v) && session.Open.Count > 0)
            WriteVerbose($"{v.Name} was the current dump; no dump is current now. Pass -Vmcore, or make one current with Open-Vmcore <path>.");
    }

    protected override void EndProcessing()
    {
        if (_any || MyInvocation.ExpectingInput) return; // an empty pipeline (Get-Vmcore | Close-Vmcore) closes nothing
        var session = VmcoreSession.Current;
        if (session.CurrentVmcore is { } cur) Close(session, cur);
        else WriteKdumpError(session.NoCurrentError());
    }
}
