using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Linux.Mm;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Translation;
using Kdump.PowerShell.Completers;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Convert-CrashAddress: translates kernel or user virtual addresses to physical ones through the dump's page tables
/// (crash's vtop), or physical addresses to direct-map virtual ones with -Physical (ptov). Every page-table level is
/// reported; swapped-out and PROT_NONE pages are results, not errors. User addresses are translated through a task's
/// mm->pgd (-Pid, -Task or a piped CrashProcess) or an explicit -Pgd; with a task the result also names the memory
/// area that holds the address, and a swapped page names its swap device.
/// </summary>
[Cmdlet(VerbsData.Convert, "CrashAddress", DefaultParameterSetName = KernelSet)]
[OutputType(typeof(AddressTranslation))]
public sealed class ConvertCrashAddressCommand : VmcoreCommandBase
{
    private const string KernelSet = "Kernel";
    private const string TaskSet = "Task";
    private const string UserSet = "User";
    private const string PhysicalSet = "Physical";

    /// <summary>The addresses to translate.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("VirtualAddress")]
    [AddressTransformation]
    public ulong[] Address { get; set; } = Array.Empty<ulong>();

    /// <summary>The process whose address space user addresses belong to (binds a piped CrashProcess's Pid).</summary>
    [Parameter(ParameterSetName = TaskSet, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PidCompleter))]
    public int Pid { get; set; }

    /// <summary>The task (task_struct address) whose address space user addresses belong to (binds a piped CrashProcess's Task).</summary>
    [Parameter(ParameterSetName = TaskSet, ValueFromPipelineByPropertyName = true)]
    [AddressTransformation]
    public ulong Task { get; set; }

    /// <summary>A user address space: the page-table root (mm->pgd) as a kernel virtual address or a physical address.</summary>
    [Parameter(Mandatory = true, ParameterSetName = UserSet, ValueFromPipelineByPropertyName = true)]
    [AddressTransformation]
    public ulong Pgd { get; set; }

    /// <summary>The addresses are physical: return their direct-map kernel virtual addresses (ptov).</summary>
    [Parameter(Mandatory = true, ParameterSetName = PhysicalSet)]
    public SwitchParameter Physical { get; set; }

    // Per-invocation lookup (remembers each task's areas and the swap table across a pipeline of addresses).
    private AddressLookup? _lookup;
    private KernelProgram? _lookupOf;

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        KernelProgram? k = null;
        if (!TryEngine(() => k = v.Kernel, v)) return;
        if (_lookup is null || !ReferenceEquals(_lookupOf, k))
        {
            _lookup = new AddressLookup(k!, WriteWarning, WriteVerbose, Cancellation);
            _lookupOf = k;
        }
        var lookup = _lookup;
        switch (ParameterSetName)
        {
            case PhysicalSet:
                foreach (var a in Address)
                {
                    Cancellation.ThrowIfCancellationRequested();
                    TryEngine(() => WriteObject(lookup.PhysicalToVirtual(a)), a);
                }
                return;
            case UserSet:
                AddressSpace user = default;
                if (!TryEngine(() => user = lookup.UserSpace(Pgd), Pgd)) return;
                TranslateAll(lookup, user, null);
                return;
            case TaskSet:
                foreach (var task in SelectTasks(v))
                {
                    AddressSpace space = default;
                    if (!TryEngine(() => space = lookup.UserSpaceOf(task), task.Task)) continue;
                    TranslateAll(lookup, space, task);
                }
                return;
            default:
                TranslateAll(lookup, AddressSpace.KernelVirtual, null);
                return;
        }
    }

    private IEnumerable<CrashProcess> SelectTasks(Vmcore v)
    {
        TaskTable? table = null;
        if (!TryEngine(() => table = TaskTable.Get(v.Kernel, v, null, Cancellation), v)) return Array.Empty<CrashProcess>();
        bool byTask = MyInvocation.BoundParameters.ContainsKey(nameof(Task));
        if (!byTask && !MyInvocation.BoundParameters.ContainsKey(nameof(Pid)))
        {
            // Only reachable when the set was chosen explicitly without a value (cannot bind otherwise).
            WriteKdumpError(new KdumpException("TaskNotGiven", KdumpErrorKind.InvalidArgument, "Give -Pid or -Task.", null));
            return Array.Empty<CrashProcess>();
        }
        // FindByPid(0) yields every CPU's idle task; one is enough to report that it has no mm.
        var tasks = TaskSelection.Select(table!, byTask ? null : [Pid], byTask ? [Task] : null, null, (ex, target) => WriteKdumpError(ex, target));
        return byTask ? tasks : tasks.Take(1);
    }

    private void TranslateAll(AddressLookup lookup, AddressSpace space, CrashProcess? task)
    {
        foreach (var a in Address)
        {
            Cancellation.ThrowIfCancellationRequested();
            TryEngine(() => WriteObject(lookup.Translate(a, space, task)), a);
        }
    }
}
