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
public sealed class GetCrashFileCommand : TaskCommandBase
{
    /// <summary>Emit one CrashTaskFiles per task (root, cwd and its descriptors, also for tasks with none) instead of one object per descriptor.</summary>
    [Parameter]
    public SwitchParameter ByTask { get; set; }

    protected override void ProcessTask(Vmcore vmcore, CrashProcess task)
    {
        var files = TaskFiles.Read(vmcore.Kernel, task, Cancellation);
        if (ByTask) WriteObject(files);
        else WriteObject(files.Files, enumerateCollection: true);
    }
}
