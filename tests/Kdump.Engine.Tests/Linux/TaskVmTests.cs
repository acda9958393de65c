using System.Text.RegularExpressions;
using Kdump.Engine.Linux.Mm;
using Kdump.Engine.Linux.Tasks;

namespace Kdump.Engine.Tests.Linux;

public class TaskVmTests
{
    private static TaskTable Table => TaskTable.Get(SampleDump.Vmcore.Kernel, SampleDump.Vmcore);

    [SampleFact]
    public void EveryTasksAreasMatchCrashForeachVm()
    {
        var sections = SampleDump.ParseTaskSections(SampleDump.CrashText("vm.txt"));
        Assert.Equal(Table.Tasks.Count, sections.Count);
        var mmRow = new Regex(@"^\s*([0-9a-f]+)\s+([0-9a-f]+)\s+(\d+)k\s+(\d+)k");
        var vmaRow = new Regex(@"^([0-9a-f]{16})\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s?(.*)$");
        int areas = 0;
        foreach (var s in sections)
        {
            var task = Table.FindByAddress(s.Task)!;
            var vm = TaskVm.Read(SampleDump.Vmcore.Kernel, task);
            var m = mmRow.Match(s.Lines[1]);
            Assert.True(m.Success, s.Lines[1]);
            Assert.Equal(Convert.ToUInt64(m.Groups[1].Value, 16), vm.Mm.Value);
            Assert.Equal(Convert.ToUInt64(m.Groups[2].Value, 16), vm.Pgd.Value);
            Assert.Equal(ulong.Parse(m.Groups[3].Value), vm.Rss);
            Assert.Equal(ulong.Parse(m.Groups[4].Value), vm.TotalVm);
            var rows = s.Lines.Skip(2).Select(x => vmaRow.Match(x)).Where(x => x.Success).ToList();
            Assert.Equal(rows.Count, vm.Areas.Count);
            for (int i = 0; i < rows.Count; i++)
            {
                var r = rows[i]; var a = vm.Areas[i];
                string ctx = $"pid {task.Pid} vma {r.Groups[1].Value}";
                Assert.True(Convert.ToUInt64(r.Groups[1].Value, 16) == a.Vma, ctx);
                Assert.True(Convert.ToUInt64(r.Groups[2].Value, 16) == a.Start, ctx + " start");
                Assert.True(Convert.ToUInt64(r.Groups[3].Value, 16) == a.End, ctx + " end");
                Assert.True(Convert.ToUInt64(r.Groups[4].Value, 16) == a.Flags, ctx + " flags");
                // crash prints files on kernel-internal mounts (shmem behind /dev/zero and SysV shm) without the leading '/'
                // and without /proc's " (deleted)": compare the names
                Assert.True(r.Groups[5].Value.Trim().TrimStart('/') == a.File.Replace(" (deleted)", "").TrimStart('/'), ctx + $" file '{a.File}'");
                areas++;
            }
        }
        Assert.True(areas > 100, $"{areas} areas compared");
    }

    [SampleFact]
    public void AreasAreWhatProcMapsShowed()
    {
        Assert.Empty(Kdump.Engine.Tests.FixtureAgreement.TruthChecks.Maps(SampleDump.Vmcore.Kernel, Table, SampleDump.Truth, out int compared));
        Assert.True(compared > 10, $"{compared} maps compared");
    }

    [Fact]
    public void FlagsDecodeAsCrashNamesThem()
    {
        Assert.Equal(new[] { "READ", "WRITE", "MAYREAD", "MAYWRITE", "MAYEXEC", "GROWSDOWN", "ACCOUNT" }, VmFlags.Decode(0x100173, "6.1.0"));
        Assert.Equal(new[] { "READ", "MAYREAD", "PFNMAP", "IO", "DONTEXPAND", "DONTDUMP", "SOFTDIRTY" }, VmFlags.Decode(0xc044411, "6.1.0"));
        Assert.Contains("DENYWRITE", VmFlags.Decode(0x875, "4.18.0"));
        Assert.Contains("0x800", VmFlags.Decode(0x875, "6.1.0"));
        Assert.Equal("r-xp", VmFlags.Permissions(0x8000075));
        Assert.Equal("rw-s", VmFlags.Permissions(0xfb));
    }

    [SampleFact]
    public void AnMmInAnExcludedPageIsAPerTaskError()
    {
        var victim = Table.Tasks.Single(t => t.Command == "kdump-ipc");
        var p = PatchedMemory.SampleProgram((mem, k) => mem.Exclude(PatchedMemory.Phys(k, victim.Mm)));
        var ex = Assert.Throws<KdumpException>(() => TaskVm.Read(p, victim));
        Assert.Equal("TaskMemoryUnavailable", ex.ErrorId);
        var kthread = Table.FindByPid(2).Single();
        Assert.Empty(TaskVm.Read(p, kthread).Areas);
    }
}
