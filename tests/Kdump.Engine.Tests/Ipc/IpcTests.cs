using System.Text.Json;
using System.Text.RegularExpressions;
using Kdump.Engine.Linux.Ipc;
using Kdump.Engine.Model;
using Kdump.Engine.Tests.Linux;

namespace Kdump.Engine.Tests.Ipc;

public class IpcTests
{
    private static readonly CrashIpcKind[] All = { CrashIpcKind.Shm, CrashIpcKind.Sem, CrashIpcKind.Msg };

    private static List<CrashIpcObject> Read(Kdump.Engine.Program.KernelProgram? p = null, List<KdumpException>? errors = null, List<string>? warnings = null)
    {
        errors ??= new(); warnings ??= new();
        return new IpcReader(p ?? SampleDump.Vmcore.Kernel).Enumerate(All, errors.Add, warnings.Add).ToList();
    }

    /// <summary>crash's ipcs: three sections, each a header then rows of address, key, id, uid, perms and the kind's columns.</summary>
    internal static List<(string Section, string[] Fields)> ParseCrashIpcs(string text)
    {
        var rows = new List<(string, string[])>();
        string section = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("SHMID_KERNEL") || line.StartsWith("SEM_ARRAY") || line.StartsWith("MSG_QUEUE")) { section = line.Split(' ')[0]; continue; }
            if (Regex.IsMatch(line, "^[0-9a-f]{16} ")) rows.Add((section, line.Split(' ', StringSplitOptions.RemoveEmptyEntries)));
        }
        return rows;
    }

    [SampleFact]
    public void EveryObjectAndColumnMatchesCrashIpcs()
    {
        var errors = new List<KdumpException>(); var warnings = new List<string>();
        var ours = Read(null, errors, warnings);
        Assert.Empty(errors);
        Assert.Empty(warnings);
        var crash = ParseCrashIpcs(SampleDump.CrashText("ipcs.txt"));
        Assert.Equal(5, crash.Count);
        Assert.Equal(crash.Count, ours.Count);
        for (int i = 0; i < crash.Count; i++)
        {
            var (section, f) = crash[i];
            var o = ours[i];
            Assert.Equal(section switch { "SHMID_KERNEL" => CrashIpcKind.Shm, "SEM_ARRAY" => CrashIpcKind.Sem, _ => CrashIpcKind.Msg }, o.Kind);
            Assert.Equal(Convert.ToUInt64(f[0], 16), o.Address.Value);
            Assert.Equal(f[1], o.KeyHex);
            Assert.Equal(int.Parse(f[2]), o.Id);
            Assert.Equal(uint.Parse(f[3]), o.Uid);
            Assert.Equal(f[4], o.Perms);
            switch (o)
            {
                case CrashIpcSharedMemory s:
                    Assert.Equal(ulong.Parse(f[5]), s.Bytes);
                    Assert.Equal(ulong.Parse(f[6]), s.NAttach);
                    Assert.Equal(f.Length > 7 ? f[7] : "", s.Status);
                    break;
                case CrashIpcSemaphore s: Assert.Equal(int.Parse(f[5]), s.NSems); break;
                case CrashIpcMessageQueue q:
                    Assert.Equal(ulong.Parse(f[5]), q.UsedBytes);
                    Assert.Equal(ulong.Parse(f[6]), q.Messages);
                    break;
            }
            Assert.True(o.IsInitNamespace);
        }
    }

    [SampleFact]
    public void EveryObjectTheWorkloadMadeMatchesTheGuestsTruth()
    {
        var ipc = SampleDump.Truth.GetProperty("ipc");
        var ours = Read();
        void Check(string kind, string idName, Action<JsonElement, CrashIpcObject> more)
        {
            var truth = ipc.GetProperty(kind).EnumerateArray().ToList();
            var mine = ours.Where(o => o.Kind.ToString().Equals(kind, StringComparison.OrdinalIgnoreCase)).ToList();
            Assert.Equal(truth.Count, mine.Count);
            foreach (var t in truth)
            {
                var o = Assert.Single(mine, m => m.Id == t.GetProperty(idName).GetInt32());
                Assert.Equal(t.GetProperty("key").GetInt64(), unchecked((uint)o.Key));
                Assert.Equal(t.GetProperty("perms").GetInt32().ToString(), o.Perms);
                Assert.Equal(t.GetProperty("uid").GetUInt32(), o.Uid);
                Assert.Equal(t.GetProperty("gid").GetUInt32(), o.Gid);
                Assert.Equal(t.GetProperty("cuid").GetUInt32(), o.CreatorUid);
                more(t, o);
            }
        }
        Check("shm", "shmid", (t, o) =>
        {
            var s = (CrashIpcSharedMemory)o;
            Assert.Equal(t.GetProperty("size").GetUInt64(), s.Bytes);
            Assert.Equal(t.GetProperty("nattch").GetUInt64(), s.NAttach);
        });
        Check("sem", "semid", (t, o) => Assert.Equal(t.GetProperty("nsems").GetInt32(), ((CrashIpcSemaphore)o).NSems));
        Check("msg", "msqid", (t, o) =>
        {
            var q = (CrashIpcMessageQueue)o;
            Assert.Equal(t.GetProperty("cbytes").GetUInt64(), q.UsedBytes);
            Assert.Equal(t.GetProperty("qnum").GetUInt64(), q.Messages);
        });
    }

    [SampleFact]
    public void KindSelectionAndIdLayout()
    {
        var reader = new IpcReader(SampleDump.Vmcore.Kernel);
        Assert.Equal(15, reader.SeqShift); // Debian 6.1: no ipcmni_extend
        var sems = reader.Enumerate(new[] { CrashIpcKind.Sem }, e => throw e, _ => { }).ToList();
        Assert.Equal(2, sems.Count);
        Assert.All(sems, s => Assert.IsType<CrashIpcSemaphore>(s));
        Assert.All(sems, s => Assert.Equal(s.Index, s.Id & ((1 << reader.SeqShift) - 1)));
        // one namespace (the guest made none), found once though every task points at it
        Assert.Single(reader.FindNamespaces(_ => { }));
    }

    [SampleFact]
    public void UnreadableObjectIsAPerItemErrorAndTheRestComeOut()
    {
        var good = Read();
        var victim = good.OfType<CrashIpcSemaphore>().First();
        var p = PatchedMemory.SampleProgram((mem, prog) => mem.Exclude(PatchedMemory.Phys(prog, victim.Address)));
        var errors = new List<KdumpException>();
        var ours = Read(p, errors);
        // every object on the excluded page is reported, the others come out
        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.Equal("IpcObjectUnreadable", e.ErrorId));
        Assert.Equal(good.Count, ours.Count + errors.Count);
        Assert.DoesNotContain(ours, o => o.Address == victim.Address);
    }

    [SampleFact]
    public void LoopingIdrIsAnErrorNotAHang()
    {
        var k = SampleDump.Vmcore.Kernel;
        ulong ns = k.GetSymbol("init_ipc_ns").Address;
        var ids = k.Object(ns, "struct ipc_namespace").Member("ids[2].ipcs_idr.idr_rt");
        ulong head = k.ReadU64(ids.Address + Irq.IrqTests.KernelObjectOffsets(k, "struct xarray", "xa_head"));
        var p = PatchedMemory.SampleProgram((mem, prog) =>
        {
            if ((head & 3) == 2)
            {
                // point the first slot of the shm idr's root node back at the node itself
                ulong node = head - 2;
                ulong slots = node + Irq.IrqTests.KernelObjectOffsets(prog, "struct xa_node", "slots");
                mem.WriteU64(PatchedMemory.Phys(prog, slots), head);
            }
            else mem.WriteU64(PatchedMemory.Phys(prog, ids.Address + 8), 0xffff800000000002); // unmapped node
        });
        var errors = new List<KdumpException>();
        var shm = new IpcReader(p).Enumerate(new[] { CrashIpcKind.Shm }, errors.Add, _ => { }).ToList();
        Assert.Contains(errors, e => e.ErrorId == "IpcIdrUnreadable");
    }
}
