using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Linux.MemInfo;
using Kdump.Engine.Model;

namespace Kdump.PowerShell.Commands;

/// <summary>Get-CrashMemoryInfo: the kernel's memory summary as crash's kmem -i computes it, one object per line.</summary>
[Cmdlet(VerbsCommon.Get, "CrashMemoryInfo")]
[OutputType(typeof(CrashMemoryInfoLine))]
public sealed class GetCrashMemoryInfoCommand : VmcoreCommandBase
{
    /// <summary>Only the lines with these names (crash's labels, wildcards allowed: "SWAP*", "FREE").</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(NameCompleter))]
    public string[]? Name { get; set; }

    internal static readonly string[] Names =
    {
        "TOTAL MEM", "FREE", "USED", "SHARED", "BUFFERS", "CACHED", "SLAB", "TOTAL HUGE", "HUGE FREE",
        "TOTAL SWAP", "SWAP USED", "SWAP FREE", "COMMIT LIMIT", "COMMITTED",
    };

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        var patterns = Name?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToArray();
        TryEngine(() =>
        {
            var reader = new MemoryInfoReader(v.Kernel, (id, message) => WriteKdumpError(new KdumpException(id, KdumpErrorKind.Unavailable, message, id)), Cancellation);
            foreach (var line in reader.ReadLines())
                if (patterns is null || patterns.Any(p => p.IsMatch(line.Name))) WriteObject(line);
        }, v);
    }

    /// <summary>Completes -Name with crash's line labels (quoted when they hold a space).</summary>
    public sealed class NameCompleter : IArgumentCompleter
    {
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters)
        {
            var pattern = new WildcardPattern(wordToComplete.Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            foreach (var n in Names)
                if (pattern.IsMatch(n))
                    yield return new CompletionResult(n.Contains(' ') ? $"'{n}'" : n, n, CompletionResultType.ParameterValue, n);
        }
    }
}
