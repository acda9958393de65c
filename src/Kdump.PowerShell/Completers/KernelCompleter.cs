using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Management.Automation.Runspaces;
using Kdump.Engine.Config;

namespace Kdump.PowerShell.Completers;

/// <summary>Completes Set-KdumpConfig -Kernel from the kernels of -Root (default /): /boot/vmlinuz-* versions and boot entries.</summary>
public sealed class KernelCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<KeyValuePair<string, string>> names;
        try { names = KdumpConfigReader.KernelNames(RootOf(fakeBoundParameters)); }
        catch (Exception) { yield break; }   // completion never throws at the user
        string word = wordToComplete.Trim('\'', '"');
        var pattern = new WildcardPattern(word + "*", WildcardOptions.IgnoreCase);
        int n = 0;
        foreach (var (name, description) in names)
        {
            if (!pattern.IsMatch(name)) continue;
            if (++n > 500) yield break;
            string text = name.IndexOfAny([' ', '[', ']', '*', '?', '\'', '$', '(', ')', '{', '}', ',', ';', '`', '"', '&', '|', '@', '#', '<', '>']) >= 0
                ? "'" + name.Replace("'", "''") + "'" : name;
            yield return new CompletionResult(text, name, CompletionResultType.ParameterValue, description);
        }
    }

    private static string RootOf(IDictionary bound)
    {
        string root = bound.Contains("Root") && bound["Root"] is { } r ? (r is PSObject p ? p.BaseObject : r).ToString() ?? "/" : "/";
        if (Path.IsPathRooted(root)) return root;
        string? cwd = Runspace.DefaultRunspace?.SessionStateProxy?.Path.CurrentFileSystemLocation.ProviderPath;
        return cwd is null ? Path.GetFullPath(root) : Path.GetFullPath(Path.Combine(cwd, root));
    }
}
