using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Mm;
using Kdump.Engine.Linux.Swap;
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

    // Per-invocation caches: a pipeline of many addresses for one task reads its areas and the swap table once.
    private readonly Dictionary<ulong, IReadOnlyList<CrashVmArea>?> _areas = new();
    private Dictionary<int, string>? _swapDevices;
    private Vmcore? _swapDevicesOf;

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        KernelProgram? k = null;
        if (!TryEngine(() => k = v.Kernel, v)) return;
        var tr = k!.Translator;
        switch (ParameterSetName)
        {
            case PhysicalSet:
                foreach (var a in Address)
                {
                    Cancellation.ThrowIfCancellationRequested();
                    // Mapped only when the page is RAM the dump describes (present, or excluded by the dump level);
                    // beyond physical memory or in a hole the direct map holds nothing.
                    TryEngine(() =>
                    {
                        bool ram = v.Dump.GetPageStatus(a / (ulong)v.PageSize) != PageStatus.NotInDump;
                        WriteObject(new AddressTranslation
                        {
                            VirtualAddress = tr.PhysicalToKernelVirtual(a), PhysicalAddress = a, AddressSpace = AddressSpace.KernelVirtual,
                            PageSize = ram ? (ulong)v.PageSize : 0, Status = ram ? TranslationStatus.Mapped : TranslationStatus.NotMapped,
                        });
                    }, a);
                }
                return;
            case UserSet:
                ulong root = Pgd;
                if (IsKernelHalf(root) && !TryEngine(() => root = tr.ToPhysical(Pgd, AddressSpace.KernelVirtual), Pgd)) return;
                TranslateAll(v, k, AddressSpace.UserVirtual(root), null);
                return;
            case TaskSet:
                foreach (var task in SelectTasks(v))
                {
                    if (task.Mm == 0)
                    {
                        WriteKdumpError(new KdumpException("TaskHasNoMm", KdumpErrorKind.InvalidArgument,
                            $"Task {task.Pid} (0x{task.Task:x}, {task.DisplayCommand}) is a kernel thread with no mm: it has no user address space. Kernel addresses need no -Pid.", task.Task), task.Task);
                        continue;
                    }
                    ulong pgdPhys = 0;
                    if (!TryEngine(() =>
                        {
                            ulong pgd = k.Object(task.Mm, "struct mm_struct")["pgd"].ReadPointer();
                            pgdPhys = tr.ToPhysical(pgd, AddressSpace.KernelVirtual);
                        }, task.Task)) continue;
                    TranslateAll(v, k, AddressSpace.UserVirtual(pgdPhys), task);
                }
                return;
            default:
                TranslateAll(v, k, AddressSpace.KernelVirtual, null);
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

    private void TranslateAll(Vmcore v, KernelProgram k, AddressSpace userOrKernel, CrashProcess? task)
    {
        foreach (var a in Address)
        {
            Cancellation.ThrowIfCancellationRequested();
            // With a task, kernel addresses use the kernel's tables; an explicit -Pgd is used as given for every address.
            var space = task is not null && IsKernelHalf(a) ? AddressSpace.KernelVirtual : userOrKernel;
            TryEngine(() =>
            {
                var t = k.Translator.Translate(a, space);
                string? device = t.Status == TranslationStatus.Swapped && t.SwapType is { } st && space.Kind == AddressSpaceKind.UserVirtual ? SwapDevice(v, k, (int)st) : null;
                CrashVmArea? vma = task is not null && space.Kind == AddressSpaceKind.UserVirtual ? AreaOf(k, task, a) : null;
                WriteObject(device is null && task is null ? t : t.WithContext(task?.Pid, task?.Task, vma, device));
            }, a);
        }
    }

    /// <summary>Kernel addresses (upper canonical half) are translated through the kernel's tables even with a task.</summary>
    private static bool IsKernelHalf(ulong address) => (address >> 63) != 0;

    private CrashVmArea? AreaOf(KernelProgram k, CrashProcess task, ulong address)
    {
        if (!_areas.TryGetValue(task.Task, out var list))
        {
            try { list = TaskVm.Read(k, task, Cancellation).Areas; }
            catch (KdumpException ex)
            {
                WriteWarning($"The memory areas of task {task.Pid} cannot be read, so results carry no Vma: {ex.Message}");
                list = null;
            }
            _areas[task.Task] = list;
        }
        if (list is null) return null;
        foreach (var area in list) if (address >= area.Start && address < area.End) return area;
        return null;
    }

    private string? SwapDevice(Vmcore v, KernelProgram k, int type)
    {
        if (_swapDevices is null || !ReferenceEquals(_swapDevicesOf, v))
        {
            _swapDevicesOf = v;
            _swapDevices = new Dictionary<int, string>();
            try
            {
                foreach (var s in new SwapReader(k).Enumerate(ex => WriteVerbose(ex.Message)))
                    _swapDevices[s.Index] = s.FileName;
            }
            catch (KdumpException ex)
            {
                WriteWarning($"The swap areas cannot be read, so swapped pages carry no SwapDevice: {ex.Message}");
            }
        }
        return _swapDevices.TryGetValue(type, out var name) && name.Length > 0 ? name : null;
    }
}
