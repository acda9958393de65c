using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;

namespace Kdump.PowerShell;

/// <summary>Shared task selection for the per-task cmdlets (Get-CrashProcess, Get-CrashVm, Get-CrashFile ...).</summary>
internal static class TaskSelection
{
    /// <summary>
    /// The tasks a record selects. The filters combine (AND): -Task (exact task_struct addresses, what a piped
    /// CrashProcess binds), -Pid (pid 0 selects every CPU's idle task) and -Name (command wildcards); with none of
    /// them, every task. A task address or pid that is not in the task list, and a name without wildcards that no
    /// task has, is a per-item error (TaskNotFound); a combination that selects nothing is not an error.
    /// </summary>
    public static IEnumerable<CrashProcess> Select(TaskTable table, int[]? pids, ulong[]? tasks, string[]? names, Action<Exception, object> error)
    {
        IEnumerable<CrashProcess> selected;
        if (tasks is { Length: > 0 })
        {
            var list = new List<CrashProcess>();
            foreach (var a in tasks)
            {
                if (table.FindByAddress(a) is { } t) list.Add(t);
                else error(new KdumpException("TaskNotFound", KdumpErrorKind.NotFound, $"No task_struct at 0x{a:x} in the task list.", a), a);
            }
            selected = list;
            if (pids is { Length: > 0 }) selected = list.Where(t => pids.Contains(t.Pid));
        }
        else if (pids is { Length: > 0 })
        {
            var list = new List<CrashProcess>();
            foreach (var pid in pids)
            {
                var found = table.FindByPid(pid);
                if (found.Count == 0) error(new KdumpException("TaskNotFound", KdumpErrorKind.NotFound, $"No task has pid {pid}.", pid), pid);
                list.AddRange(found);
            }
            selected = list;
        }
        else selected = table.Tasks;

        if (names is { Length: > 0 })
        {
            var patterns = names.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToArray();
            for (int i = 0; i < names.Length; i++)
            {
                if (WildcardPattern.ContainsWildcardCharacters(names[i])) continue;
                var p = patterns[i];
                if (!table.Tasks.Any(t => p.IsMatch(t.Command)))
                    error(new KdumpException("TaskNotFound", KdumpErrorKind.NotFound, $"No task has the command '{names[i]}'.", names[i]), names[i]);
            }
            selected = selected.Where(t => patterns.Any(p => p.IsMatch(t.Command)));
        }
        return selected.ToList();
    }
}
