using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.PowerShell.Completers;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashProcess: every task of the crashed kernel (crash's <c>ps</c>) — per-CPU idle tasks, kernel threads and
/// every thread of every process — with crash's columns (PID PPID CPU TASK ST %MEM VSZ RSS COMM, '&gt;' for the
/// tasks running at the crash). Works from the dump's own BTF or from a vmlinux's types.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashProcess", DefaultParameterSetName = AllSet)]
[OutputType(typeof(CrashProcess))]
public sealed class GetCrashProcessCommand : VmcoreCommandBase
{
    private const string AllSet = "All";
    private const string KernelSet = "KernelThread";
    private const string UserSet = "UserSpace";

    /// <summary>Only these pids (pid 0: every CPU's idle task).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PidCompleter))]
    public int[]? Pid { get; set; }

    /// <summary>Only tasks whose command (comm) matches one of these wildcards. Not bound from the pipeline: a piped
    /// Vmcore's Name is a file name, and a piped CrashProcess is selected by its Task.</summary>
    [Parameter]
    [Alias("Command", "Comm")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TaskNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Only the tasks whose task_struct is at these addresses.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AddressTransformation]
    public ulong[]? Task { get; set; }

    /// <summary>Only tasks in these states: RU IN UN ST TR ZO DE ID WA PA NE.</summary>
    [Parameter]
    [ValidateSet("RU", "IN", "UN", "ST", "TR", "ZO", "DE", "ID", "WA", "PA", "NE", "WK", "??", IgnoreCase = true)]
    public string[]? State { get; set; }

    /// <summary>Only kernel threads (ps -k).</summary>
    [Parameter(Mandatory = true, ParameterSetName = KernelSet)]
    public SwitchParameter KernelThread { get; set; }

    /// <summary>Only user-space tasks (ps -u).</summary>
    [Parameter(Mandatory = true, ParameterSetName = UserSet)]
    public SwitchParameter UserSpace { get; set; }

    /// <summary>Only the tasks running on a CPU at the crash (ps -a's '&gt;' tasks).</summary>
    [Parameter]
    public SwitchParameter Active { get; set; }

    /// <summary>Each selected task's ancestry, from swapper/0 down to the task (ps -p).</summary>
    [Parameter]
    public SwitchParameter Parents { get; set; }

    /// <summary>The children of each selected task instead of the task (ps -c).</summary>
    [Parameter]
    public SwitchParameter Children { get; set; }

    private readonly HashSet<Vmcore> _warned = new();

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        TaskTable? table = null;
        if (!TryEngine(() => table = TaskTable.Get(v.Kernel, v, null, Cancellation), v)) return;
        if (_warned.Add(v)) foreach (var w in table!.Warnings) WriteWarning(w);
        var states = State?.Select(s => s.ToUpperInvariant()).ToHashSet();
        foreach (var t in TaskSelection.Select(table!, Pid, Task, Name, (ex, target) => WriteKdumpError(ex, target)))
        {
            Cancellation.ThrowIfCancellationRequested();
            if (KernelThread && !t.IsKernelThread) continue;
            if (UserSpace && t.IsKernelThread) continue;
            if (Active && !t.IsActive) continue;
            if (states is not null && !states.Contains(t.State)) continue;
            if (Parents) { WriteObject(table!.Ancestry(t), enumerateCollection: true); continue; }
            if (Children) { WriteObject(table!.Children(t), enumerateCollection: true); continue; }
            WriteObject(t);
        }
    }
}
