using System.Management.Automation;
using Kdump.Engine.Linux.Fs;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.PowerShell.Completers;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashFile: each task's open files (crash's <c>files</c>): one object per descriptor with the file, dentry and
/// inode addresses, the type, and the path as /proc shows it (full path across mounts, pipe:[ino], socket:[ino],
/// anon_inode:[eventfd]). A task whose file table cannot be read is a per-task error (TaskFilesUnavailable).
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashFile")]
[OutputType(typeof(CrashFile))]
[OutputType(typeof(CrashTaskFiles))]
public sealed class GetCrashFileCommand : VmcoreCommandBase
{
    /// <summary>Only these pids (binds a piped CrashProcess's Pid).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PidCompleter))]
    public int[]? Pid { get; set; }

    /// <summary>Only the tasks at these task_struct addresses (binds a piped CrashProcess's Task).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AddressTransformation]
    public ulong[]? Task { get; set; }

    /// <summary>Only tasks whose command matches one of these wildcards.</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TaskNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Emit one CrashTaskFiles per task (root, cwd and its descriptors, also for tasks with none) instead of one object per descriptor.</summary>
    [Parameter]
    public SwitchParameter ByTask { get; set; }

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        TaskTable? table = null;
        if (!TryEngine(() => table = TaskTable.Get(v.Kernel, v, null, Cancellation), v)) return;
        foreach (var t in TaskSelection.Select(table!, Pid, Task, Name, (ex, target) => WriteKdumpError(ex, target)))
        {
            Cancellation.ThrowIfCancellationRequested();
            TryEngine(() =>
            {
                var files = TaskFiles.Read(v.Kernel, t, Cancellation);
                if (ByTask) WriteObject(files);
                else WriteObject(files.Files, enumerateCollection: true);
            }, t);
        }
    }
}
