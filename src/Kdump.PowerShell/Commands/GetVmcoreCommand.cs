using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Model;
using Kdump.PowerShell.Completers;
using Kdump.PowerShell.Session;

namespace Kdump.PowerShell.Commands;

/// <summary>Get-Vmcore: the dumps open in this session, selected by Id or name, or only the current one.</summary>
[Cmdlet(VerbsCommon.Get, "Vmcore", DefaultParameterSetName = AllSet)]
[OutputType(typeof(Vmcore))]
public sealed class GetVmcoreCommand : KdumpCmdlet
{
    private const string AllSet = "All";
    private const string IdSet = "Id";
    private const string CurrentSet = "Current";

    /// <summary>Only the dumps whose name (file name) or path matches one of these wildcards.</summary>
    [Parameter(Position = 0, ParameterSetName = AllSet)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(VmcoreCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Only the dumps with these Ids.</summary>
    [Parameter(Mandatory = true, ParameterSetName = IdSet)]
    [ArgumentCompleter(typeof(VmcoreCompleter))]
    public int[] Id { get; set; } = Array.Empty<int>();

    /// <summary>Only the current dump (nothing when no dump is current).</summary>
    [Parameter(Mandatory = true, ParameterSetName = CurrentSet)]
    public SwitchParameter Current { get; set; }

    protected override void EndProcessing()
    {
        var session = VmcoreSession.Current;
        var open = session.Open;
        switch (ParameterSetName)
        {
            case CurrentSet:
                if (session.CurrentVmcore is { IsOpen: true } c) WriteObject(c);
                return;
            case IdSet:
                foreach (var id in Id)
                {
                    if (open.FirstOrDefault(v => v.Id == id) is { } v) WriteObject(v);
                    else WriteKdumpError(new KdumpException("VmcoreNotFound", KdumpErrorKind.NotFound, $"No open dump has Id {id}.", id), id);
                }
                return;
        }
        if (Name is not { Length: > 0 })
        {
            foreach (var v in open) WriteObject(v);
            return;
        }
        foreach (var n in Name)
        {
            var p = new WildcardPattern(n, WildcardOptions.IgnoreCase);
            var hits = open.Where(v => p.IsMatch(v.Name) || p.IsMatch(v.Path) || p.IsMatch(System.IO.Path.GetFileName(v.Path))).ToList();
            if (hits.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(n))
                WriteKdumpError(new KdumpException("VmcoreNotFound", KdumpErrorKind.NotFound, $"No open dump is named '{n}'.", n), n);
            foreach (var v in hits) WriteObject(v);
        }
    }
}
