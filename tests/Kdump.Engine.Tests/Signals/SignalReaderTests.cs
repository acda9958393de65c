using Kdump.Engine.Linux.Signals;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Program;
using Kdump.Engine.Tests.Linux;

namespace Kdump.Engine.Tests.Signals;

/// <summary>
/// A task's signal state with a page the dump does not hold (a -d 31 dump whose producer dropped slab pages, as
/// makedumpfile 1.7.8 does on Linux 7.1+): the part on that page is empty and named with its error id, the rest of
/// the task's answer is still read, and the reader never throws for it.
/// </summary>
public class SignalReaderTests
{
    private static TaskTable Table => TaskTable.Get(SampleDump.Vmcore.Kernel, SampleDump.Vmcore);

    private static (ulong Signal, ulong Sighand) Pointers(KernelProgram k, ulong task)
    {
        var tt = k.FindType("struct task_struct");
        return (k.ReadU64(task + KernelObject.MemberOffset(tt, "signal")), k.ReadU64(task + KernelObject.MemberOffset(tt, "sighand")));
    }

    [SampleFact]
    public void AnExcludedSighandPageLeavesTheActionsEmptyWithAWarning()
    {
        var victim = Table.Tasks.Single(t => t.Pid == 1);
        var clean = new SignalReader(SampleDump.Vmcore.Kernel).Read(victim);
        Assert.Empty(clean.Warnings);
        Assert.Equal(64, clean.Actions.Count);
        var (_, sighand) = Pointers(SampleDump.Vmcore.Kernel, victim.Task);
        var k = PatchedMemory.SampleProgram((mem, p) => mem.Exclude(PatchedMemory.Phys(p, sighand + 64)));
        var s = new SignalReader(k).Read(victim);
        Assert.Empty(s.Actions);
        var w = Assert.Single(s.Warnings);
        Assert.Contains("sighand_struct.action", w, StringComparison.Ordinal);
        Assert.Contains("PageExcluded", w, StringComparison.Ordinal);
        // the task's own fields and its signal_struct are still read
        Assert.Equal((clean.SignalStruct, clean.SigHand, clean.Threads, clean.Blocked, clean.Pending, clean.SharedPending, clean.SigPending),
            (s.SignalStruct, s.SigHand, s.Threads, s.Blocked, s.Pending, s.SharedPending, s.SigPending));
    }

    [SampleFact]
    public void AnExcludedSignalStructPageLeavesItsFieldsZeroWithWarnings()
    {
        var victim = Table.Tasks.Single(t => t.Pid == 1);
        var clean = new SignalReader(SampleDump.Vmcore.Kernel).Read(victim);
        var (signal, sighand) = Pointers(SampleDump.Vmcore.Kernel, victim.Task);
        Assert.NotEqual(signal >> 12, sighand >> 12);
        var k = PatchedMemory.SampleProgram((mem, p) => mem.Exclude(PatchedMemory.Phys(p, signal)));
        var s = new SignalReader(k).Read(victim);
        Assert.Equal(0, s.Threads);
        Assert.Empty(s.SharedQueue);
        Assert.Contains(s.Warnings, w => w.StartsWith("signal_struct.nr_threads", StringComparison.Ordinal) && w.Contains("PageExcluded", StringComparison.Ordinal));
        Assert.All(s.Warnings, w => Assert.StartsWith("signal_struct.", w, StringComparison.Ordinal));
        Assert.Equal(clean.Actions.Select(a => (a.Handler, a.Flags, a.Mask)), s.Actions.Select(a => (a.Handler, a.Flags, a.Mask)));
    }

    [SampleFact]
    public void AnExcludedTaskStructIsAnError()
    {
        var victim = Table.Tasks.Single(t => t.Pid == 1);
        var k = PatchedMemory.SampleProgram((mem, p) => mem.Exclude(PatchedMemory.Phys(p, victim.Task + KernelObject.MemberOffset(p.FindType("struct task_struct"), "sighand"))));
        var ex = Assert.ThrowsAny<KdumpException>(() => new SignalReader(k).Read(victim));
        Assert.Equal("PageExcluded", ex.ErrorId);
    }
}
