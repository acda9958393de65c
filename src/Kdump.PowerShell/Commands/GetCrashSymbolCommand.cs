using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Program;
using Kdump.Engine.Symbols;

using Kdump.PowerShell.Completers;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashSymbol: kernel symbols by name (wildcards) or the symbol containing an address (crash's sym). Symbols
/// come from the ordered finders: System.map (-SystemMap of Open-Vmcore), then kallsyms decoded from the dump.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashSymbol", DefaultParameterSetName = NameSet)]
[OutputType(typeof(KSymbol), ParameterSetName = new[] { NameSet })]
[OutputType(typeof(CrashSymbolLookup), ParameterSetName = new[] { AddressSet })]
public sealed class GetCrashSymbolCommand : VmcoreCommandBase
{
    private const string NameSet = "Name";
    private const string AddressSet = "Address";

    /// <summary>Symbol names; wildcards allowed.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipeline = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SymbolCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>Addresses to place: the nearest symbol at or below each, with the offset.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AddressSet, ValueFromPipelineByPropertyName = true)]
    [AddressTransformation]
    public ulong[] Address { get; set; } = Array.Empty<ulong>();

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        KernelProgram? k = null;
        if (!TryEngine(() => k = v.Kernel, v)) return;
        if (ParameterSetName == AddressSet)
        {
            foreach (var a in Address)
            {
                SymbolOffset? hit = null;
                if (!TryEngine(() => hit = k!.Symbolize(a), a)) continue;
                if (hit is { } h) WriteObject(CrashSymbolLookup.From(a, h));
                else WriteKdumpError(new KdumpException("SymbolNotFound", KdumpErrorKind.NotFound, $"No symbol contains address 0x{a:x} ({k!.SymbolSourceText}).", a));
            }
            return;
        }
        foreach (var n in Name)
        {
            Cancellation.ThrowIfCancellationRequested();
            if (!WildcardPattern.ContainsWildcardCharacters(n))
            {
                KSymbol? s = null;
                if (!TryEngine(() => s = k!.FindSymbol(n), n)) continue;
                if (s is not null) WriteObject(s);
                else WriteKdumpError(new KdumpException("SymbolNotFound", KdumpErrorKind.NotFound, $"Symbol '{n}' is not known ({k!.SymbolSourceText}).", n));
                continue;
            }
            var pattern = new WildcardPattern(n, WildcardOptions.None);
            int found = 0;
            TryEngine(() =>
            {
                foreach (var s in k!.EnumerateSymbols())
                {
                    if (!pattern.IsMatch(s.Name)) continue;
                    if ((++found & 1023) == 0) Cancellation.ThrowIfCancellationRequested();
                    WriteObject(s);
                }
            }, n);
        }
    }
}
