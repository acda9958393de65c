using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Linux.WaitQueue;
using Kdump.Engine.Model;
using Kdump.Engine.Program;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashWaitQueue: the tasks sleeping on a wait queue (crash's waitq), given by the address of a wait_queue_head,
/// by a symbol, or as a struct member at an address (crash's waitq struct.member address).
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashWaitQueue", DefaultParameterSetName = AddressSet)]
[OutputType(typeof(CrashWaitQueueEntry))]
public sealed class GetCrashWaitQueueCommand : VmcoreCommandBase
{
    private const string AddressSet = "Address";
    private const string SymbolSet = "Symbol";
    private const string MemberSet = "Member";

    /// <summary>Address of a wait_queue_head; with -Type and -Member, the address of the containing object.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = AddressSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = MemberSet, ValueFromPipelineByPropertyName = true)]
    [AddressTransformation]
    public ulong[] Address { get; set; } = Array.Empty<ulong>();

    /// <summary>A global wait_queue_head by symbol name (e.g. log_wait).</summary>
    [Parameter(Mandatory = true, ParameterSetName = SymbolSet)]
    [ValidateNotNullOrEmpty]
    public string[] Symbol { get; set; } = Array.Empty<string>();

    /// <summary>The type of the object at -Address that holds the wait queue, e.g. "struct pipe_inode_info" (or just pipe_inode_info).</summary>
    [Parameter(Mandatory = true, ParameterSetName = MemberSet)]
    [ValidateNotNullOrEmpty]
    public string Type { get; set; } = "";

    /// <summary>The wait_queue_head member of -Type (a path such as "rd_wait" or "wait.head" is allowed).</summary>
    [Parameter(Mandatory = true, ParameterSetName = MemberSet)]
    [ValidateNotNullOrEmpty]
    public string Member { get; set; } = "";

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        KernelProgram? k = null;
        WaitQueueReader? reader = null;
        if (!TryEngine(() => { k = v.Kernel; reader = new WaitQueueReader(k); }, v)) return;
        TaskTable? tasks = null;
        try { tasks = TaskTable.Get(k!, v, cancellation: Cancellation); }
        catch (KdumpException ex) { WriteWarning($"The task list cannot be read, so waiters are shown without their PID and command: {ex.Message}"); }

        var queues = new List<(ulong Head, string Label)>();
        switch (ParameterSetName)
        {
            case SymbolSet:
                foreach (var s in Symbol)
                    TryEngine(() => queues.Add((k!.GetSymbol(s).Address, s)), s);
                break;
            case MemberSet:
                foreach (var a in Address)
                    TryEngine(() => queues.Add((reader!.MemberAddress(Type, Member, a), $"{Type}.{Member} at 0x{a:x}")), a);
                break;
            default:
                foreach (var a in Address) queues.Add((a, $"0x{a:x}"));
                break;
        }
        foreach (var (head, label) in queues)
        {
            Cancellation.ThrowIfCancellationRequested();
            TryEngine(() =>
            {
                int n = 0;
                foreach (var e in reader!.Enumerate(head, tasks, Cancellation))
                {
                    if (e.Pid is null)
                        WriteWarning($"Wait queue {label}: entry 0x{e.Entry:x} (wake function {e.Function}) does not hold a task (private 0x{e.Task:x}).");
                    WriteObject(e);
                    n++;
                }
                if (n == 0)
                {
                    string msg = $"wait queue \"{label}\" is empty";
                    WriteVerbose(msg);
                    WriteInformation(new InformationRecord(msg, "Get-CrashWaitQueue") { Tags = { "WaitQueueEmpty" } });
                }
            }, head);
        }
    }
}
