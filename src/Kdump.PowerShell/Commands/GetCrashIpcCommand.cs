using System.Management.Automation;
using Kdump.Engine.Linux.Ipc;
using Kdump.Engine.Model;

namespace Kdump.PowerShell.Commands;

/// <summary>Get-CrashIpc: System V shared memory segments, semaphore sets and message queues of every IPC namespace (crash's ipcs).</summary>
[Cmdlet(VerbsCommon.Get, "CrashIpc")]
[OutputType(typeof(CrashIpcSharedMemory), typeof(CrashIpcSemaphore), typeof(CrashIpcMessageQueue))]
public sealed class GetCrashIpcCommand : VmcoreCommandBase
{
    /// <summary>Which facilities: Shm, Sem, Msg (default all three, in that order, as crash's ipcs prints them).</summary>
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public CrashIpcKind[]? Kind { get; set; }

    /// <summary>Only objects with these keys.</summary>
    [Parameter]
    public int[]? Key { get; set; }

    /// <summary>Only objects with these ids (shmid, semid, msqid).</summary>
    [Parameter]
    public int[]? Id { get; set; }

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        IpcReader? reader = null;
        if (!TryEngine(() => reader = new IpcReader(v.Kernel), v)) return;
        var kinds = Kind is { Length: > 0 } ? Kind.Distinct().ToArray() : new[] { CrashIpcKind.Shm, CrashIpcKind.Sem, CrashIpcKind.Msg };
        TryEngine(() =>
        {
            foreach (var o in reader!.Enumerate(kinds, ex => WriteKdumpError(ex), WriteWarning, Cancellation))
            {
                if (Key is { Length: > 0 } && !Key.Contains(o.Key)) continue;
                if (Id is { Length: > 0 } && !Id.Contains(o.Id)) continue;
                WriteObject(o);
            }
        }, v);
    }
}
