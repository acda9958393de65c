using System.Text.RegularExpressions;
using Kdump.Engine.Linux.Fs;
using Kdump.Engine.Linux.Tasks;

namespace Kdump.Engine.Tests.Linux;

public class TaskFilesTests
{
    private static TaskTable Table => TaskTable.Get(SampleDump.Vmcore.Kernel, SampleDump.Vmcore);

    /// <summary>crash prints directories with a trailing '/', pipes with no path, sockets as their protocol, anon inodes by name.</summary>
    internal static string CrashSpelling(Kdump.Engine.Model.CrashFile f) => f.Type switch
    {
        "DIR" => f.Path == "/" ? "/" : f.Path + "/",
        "FIFO" => "",
        "SOCK" => f.Protocol ?? "",
        _ when f.IsAnonymous => f.Path["anon_inode:".Length..],
        _ => f.Path,
    };

    [SampleFact]
    public void EveryTasksFilesMatchCrashForeachFiles()
    {
        var sections = SampleDump.ParseTaskSections(SampleDump.CrashText("files.txt"));
        Assert.Equal(Table.Tasks.Count, sections.Count);
        var row = new Regex(@"^\s*(\d+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+(\S+)\s?(.*)$");
        var rootCwd = new Regex(@"^ROOT:\s+(\S+)\s+CWD:\s+(\S+)");
        int compared = 0;
        foreach (var s in sections)
        {
            var task = Table.FindByAddress(s.Task)!;
            var files = TaskFiles.Read(SampleDump.Vmcore.Kernel, task);
            var rc = rootCwd.Match(s.Lines[0]);
            Assert.True(rc.Success, s.Lines[0]);
            Assert.Equal(rc.Groups[1].Value, files.Root);
            Assert.Equal(rc.Groups[2].Value, files.Cwd == "/" ? "/" : files.Cwd + "/");
            var rows = s.Lines.Skip(1).Select(x => row.Match(x)).Where(m => m.Success).ToList();
            Assert.Equal(rows.Count, files.Files.Count);
            for (int i = 0; i < rows.Count; i++)
            {
                var m = rows[i]; var f = files.Files[i];
                string ctx = $"pid {task.Pid} fd {m.Groups[1].Value}";
                Assert.True(int.Parse(m.Groups[1].Value) == f.Fd, ctx);
                Assert.True(Convert.ToUInt64(m.Groups[2].Value, 16) == f.File, ctx + " file");
                Assert.True(Convert.ToUInt64(m.Groups[3].Value, 16) == f.Dentry, ctx + " dentry");
                Assert.True(Convert.ToUInt64(m.Groups[4].Value, 16) == f.Inode, ctx + " inode");
                Assert.True(m.Groups[5].Value == f.Type, ctx + $" type {f.Type}");
                Assert.True(m.Groups[6].Value.Trim() == CrashSpelling(f), ctx + $" path '{f.Path}' vs crash '{m.Groups[6].Value}'");
                compared++;
            }
        }
        Assert.True(compared > 40, $"{compared} descriptors compared");
    }

    [SampleFact]
    public void DescriptorTargetsAreWhatProcShowed()
    {
        Assert.Empty(Kdump.Engine.Tests.FixtureAgreement.TruthChecks.Files(SampleDump.Vmcore.Kernel, Table, SampleDump.Truth, out int compared));
        Assert.True(compared >= 14, $"{compared} descriptors compared");
    }

    [SampleFact]
    public void AFilesTableInAnExcludedPageIsAPerTaskError()
    {
        var victim = Table.Tasks.Single(t => t.Command == "kdump-files");
        var p = PatchedMemory.SampleProgram((mem, k) =>
        {
            ulong files = k.ReadU64(victim.Task + Kdump.Engine.Program.KernelObject.MemberOffset(k.FindType("struct task_struct"), "files"));
            mem.Exclude(PatchedMemory.Phys(k, files));
        });
        var ex = Assert.Throws<KdumpException>(() => TaskFiles.Read(p, victim));
        Assert.Equal("TaskFilesUnavailable", ex.ErrorId);
        Assert.Equal(KdumpErrorKind.Unavailable, ex.Kind);
        var other = Table.Tasks.Single(t => t.Command == "kdump-ipc");
        Assert.Equal(3, TaskFiles.Read(p, other).Files.Count);
    }
}
