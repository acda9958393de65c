using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Linux.WaitQueue;
using Kdump.Engine.Tests.Linux;

namespace Kdump.Engine.Tests.WaitQueue;

public class WaitQueueTests
{
    /// <summary>The signal_struct of a process: init (the guest's /init script, sitting in wait4() for the workload) by default.</summary>
    private static (ulong Signal, int Pid) Process(int pid = 1)
    {
        var k = SampleDump.Vmcore.Kernel;
        var task = TaskTable.Get(k, SampleDump.Vmcore).FindByPid(pid).First();
        ulong signal = k.Object(task.Task, "struct task_struct").Member("signal").ReadPointer();
        return (signal, pid);
    }

    [SampleFact]
    public void ParentWaitingForItsChildSleepsOnWaitChldexit()
    {
        // init (the guest's /init shell) waits in wait4() for its children: do_wait() queues it on its own
        // signal->wait_chldexit with child_wait_callback and private = the task.
        var k = SampleDump.Vmcore.Kernel;
        var (signal, pid) = Process();
        var reader = new WaitQueueReader(k);
        ulong head = reader.MemberAddress("signal_struct", "wait_chldexit", signal);
        Assert.Equal(signal + Irq.IrqTests.KernelObjectOffsets(k, "struct signal_struct", "wait_chldexit"), head);
        var tasks = TaskTable.Get(k, SampleDump.Vmcore);
        var entries = reader.Enumerate(head, tasks).ToList();
        var e = Assert.Single(entries);
        Assert.Equal(pid, e.Pid);
        var proc = tasks.FindByPid(pid).First();
        Assert.Equal(proc.Task, e.Task);
        Assert.Equal(proc.Cpu, e.Cpu);
        Assert.Equal(proc.Command, e.Command);
        Assert.Equal(head, e.WaitQueue.Value);
        Assert.Equal("child_wait_callback", e.Function);
    }

    [SampleFact]
    public void EmptyQueueYieldsNothingAndAMemberThatIsNotAQueueIsRefused()
    {
        var k = SampleDump.Vmcore.Kernel;
        var reader = new WaitQueueReader(k);
        // the workload's "parent" process is not in wait4(): its wait_chldexit is empty
        var (signal, _) = Process(SampleDump.Truth.GetProperty("workload").GetProperty("parent").GetInt32());
        Assert.Empty(reader.Enumerate(reader.MemberAddress("struct signal_struct", "wait_chldexit", signal), null));
        var ex = Assert.Throws<KdumpException>(() => reader.MemberAddress("signal_struct", "nr_threads", signal));
        Assert.Equal("MemberNotWaitQueue", ex.ErrorId);
    }

    [SampleFact]
    public void LoopingQueueIsAnErrorNotAHang()
    {
        var (signal, _) = Process();
        var k = SampleDump.Vmcore.Kernel;
        var reader = new WaitQueueReader(k);
        ulong head = reader.MemberAddress("signal_struct", "wait_chldexit", signal);
        ulong entry = reader.Enumerate(head, null).Single().Entry;
        ulong link = entry + Irq.IrqTests.KernelObjectOffsets(k, "struct wait_queue_entry", "entry");
        var p = PatchedMemory.SampleProgram((mem, prog) => mem.WriteU64(PatchedMemory.Phys(prog, link), link)); // entry.next -> itself
        var ex = Assert.Throws<KdumpException>(() => new WaitQueueReader(p).Enumerate(head, null).ToList());
        Assert.Equal("ListCycle", ex.ErrorId);
    }
}
