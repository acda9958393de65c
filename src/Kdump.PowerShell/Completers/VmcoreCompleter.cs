using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Kdump.Engine.Model;
using Kdump.PowerShell.Session;

namespace Kdump.PowerShell.Completers;

/// <summary>Completes -Vmcore (and Get-Vmcore -Id/-Name) with the open dumps: Ids for -Id, names elsewhere.</summary>
public sealed class VmcoreCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = CompletionText.Unquote(wordToComplete);
        bool ids = string.Equals(parameterName, "Id", StringComparison.OrdinalIgnoreCase);
        foreach (var v in VmcoreSession.Current.Open)
        {
            string id = v.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            string tip = $"{v.Id} {v.Path} ({v.KernelRelease ?? "unknown kernel"})";
            if (ids) { if (id.StartsWith(word, StringComparison.Ordinal)) yield return new CompletionResult(id, $"{id} {v.Name}", CompletionResultType.ParameterValue, tip); continue; }
            if (id.StartsWith(word, StringComparison.Ordinal) && word.Length > 0)
                yield return new CompletionResult(id, $"{id} {v.Name}", CompletionResultType.ParameterValue, tip);
            else if (CompletionText.Matches(v.Name, word))
                yield return new CompletionResult(CompletionText.Quote(v.Name, wordToComplete), v.Name, CompletionResultType.ParameterValue, tip);
        }
    }
}

/// <summary>Quote-aware helpers shared by the completers: what the user typed, and how to give back a value.</summary>
internal static class CompletionText
{
    private static readonly char[] s_special = { ' ', '[', ']', '*', '?', '\'', '$', '(', ')', '{', '}', ',', ';', '`', '"', '@', '#', '|', '&', '<', '>' };

    /// <summary>The word without the quotes the user opened (and may have closed).</summary>
    public static string Unquote(string word)
    {
        if (word.Length > 0 && word[0] is '\'' or '"')
        {
            char q = word[0];
            word = word[1..];
            if (word.Length > 0 && word[^1] == q) word = word[..^1];
        }
        return word;
    }

    /// <summary>True when <paramref name="candidate"/> matches what was typed as a prefix (wildcards allowed).</summary>
    public static bool Matches(string candidate, string word) =>
        new WildcardPattern(WildcardPattern.Escape(word).Replace("`*", "*").Replace("`?", "?") + "*", WildcardOptions.IgnoreCase).IsMatch(candidate);

    /// <summary>The completion text: quoted with the user's quote when they opened one, or when the value needs it.</summary>
    public static string Quote(string value, string typed)
    {
        char q = typed.Length > 0 && typed[0] == '"' ? '"' : '\'';
        bool needs = typed.Length > 0 && typed[0] is '\'' or '"' || value.IndexOfAny(s_special) >= 0;
        if (!needs) return value;
        return q == '"' ? "\"" + value.Replace("`", "``").Replace("\"", "`\"").Replace("$", "`$") + "\"" : "'" + value.Replace("'", "''") + "'";
    }
}
