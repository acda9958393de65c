using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.PowerShell.Session;

namespace Kdump.PowerShell.Completers;

/// <summary>Completes -Pid from the open dump's tasks (the tooltip shows the command).</summary>
public sealed class PidCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var table = TaskCompletion.Table(fakeBoundParameters);
        if (table is null) yield break;
        int n = 0;
        foreach (var t in table.Tasks.DistinctBy(t => t.Pid))
        {
            string pid = t.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            if (!pid.StartsWith(wordToComplete, StringComparison.Ordinal)) continue;
            if (++n > 500) yield break;
            yield return new CompletionResult(pid, $"{pid} {t.Command}", CompletionResultType.ParameterValue, $"{t.Pid} {t.DisplayCommand} ({t.State})");
        }
    }
}

/// <summary>Completes -Name from the open dump's task commands.</summary>
public sealed class TaskNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var table = TaskCompletion.Table(fakeBoundParameters);
        if (table is null) yield break;
        string word = CompletionText.Unquote(wordToComplete);
        int n = 0;
        foreach (var name in table.Tasks.Select(t => t.Command).Distinct(StringComparer.Ordinal).Order(StringComparer.OrdinalIgnoreCase))
        {
            if (!CompletionText.Matches(name, word)) continue;
            if (++n > 500) yield break;
            yield return new CompletionResult(CompletionText.Quote(name, wordToComplete), name, CompletionResultType.ParameterValue, name);
        }
    }
}

/// <summary>The dump a completer works on: the -Vmcore already typed (object, Id, name or path), else the current one.</summary>
internal static class CompletionVmcore
{
    public static Vmcore? From(IDictionary bound)
    {
        try
        {
            var raw = bound.Contains("Vmcore") ? bound["Vmcore"] : null;
            if (raw is PSObject pso) raw = pso.BaseObject;
            var session = VmcoreSession.Current;
            var v = raw switch
            {
                null => session.CurrentVmcore,
                Vmcore live => live,
                VmcoreIdentity id => session.Resolve(id),
                int i => session.Resolve(new VmcoreIdentity(i)),
                string s => session.Resolve(new VmcoreIdentity(s)),
                _ => null,
            };
            return v is { IsOpen: true } ? v : null;
        }
        catch (Exception) { return null; } // completion never throws at the user
    }
}

internal static class TaskCompletion
{
    public static TaskTable? Table(IDictionary bound)
    {
        try
        {
            var v = CompletionVmcore.From(bound);
            return v is { IsOpen: true } ? TaskTable.Get(v.Kernel, v) : null;
        }
        catch (Exception) { return null; } // completion never throws at the user
    }
}
