using System.Buffers.Binary;
using System.Diagnostics;
using Kdump.Engine.Types;

namespace Kdump.Engine.Tests.Types;

public class BtfTests
{
    /// <summary>A miniature task_struct world covering every BTF kind.</summary>
    internal static (byte[] Blob, BtfBuilder B) Sample()
    {
        var b = new BtfBuilder();
        int i32 = b.Int("int", 4, signed: true);                          // 1
        int u64 = b.Int("long unsigned int", 8);                           // 2
        int ch = b.Int("char", 1, signed: true, isChar: true);              // 3
        int boolean = b.Int("_Bool", 1, isBool: true);                     // 4
        int listFwd = b.Fwd("list_head");                                  // 5
        int listPtr = b.Ptr(7);                                            // 6 -> struct list_head (id 7)
        // fix: id 6 is a pointer to id 7
        int list = b.Struct("list_head", 16, ("next", listPtr, 0, 0), ("prev", listPtr, 64, 0)); // 7
        int pidT = b.Typedef("pid_t", i32);                                // 8
        int comm = b.Array(ch, i32, 16);                                   // 9
        int cpid = b.Const(pidT);                                          // 10
        int vol = b.Volatile(u64);                                         // 11
        int anon = b.Struct(null, 8, ("a_in_anon", i32, 0, 0), ("b_in_anon", i32, 32, 0)); // 12
        int state = b.Enum("task_state", 4, false, ("TASK_RUNNING", 0), ("TASK_INTERRUPTIBLE", 1)); // 13
        int big = b.Enum64("big_flags", ("BIG_ONE", 1UL << 40));          // 14
        int flex = b.Array(u64, i32, 0);                                   // 15
        int mmFwd = b.Fwd("mm_struct");                                    // 16
        int mmPtr = b.Ptr(mmFwd);                                          // 17
        int tag = b.TypeTag("rcu", mmPtr);                                 // 18
        int task = b.Struct("task_struct", 96,
            ("__state", vol, 0, 0), ("pid", pidT, 64, 0), ("tgid", cpid, 96, 0), ("tasks", list, 128, 0),
            (null, anon, 256, 0), ("flag_a", i32, 320, 3), ("flag_b", i32, 323, 5), ("comm", comm, 384, 0),
            ("mm", tag, 512, 0), ("state_enum", state, 576, 0), ("tail", flex, 640, 0));  // 19
        int voidPtr = b.Ptr(0);                                            // 20
        int proto = b.FuncProto(i32, ("p", b.Ptr(task)), (null, 0));       // 22 (21 = ptr to task)
        int func = b.Func("do_exit", proto);                               // 23
        int var = b.Var("init_task", task);                                // 24
        int sec = b.DataSec(".data", 4096, (var, 0, 96));                  // 25
        b.Float("double", 8);                                              // 26
        b.DeclTag("kfunc", func, -1);                                      // 27
        int u = b.Union("u", 8, ("x", u64, 0, 0), ("y", i32, 0, 0));       // 28
        b.Restrict(voidPtr);                                               // 29
        _ = listFwd; _ = boolean; _ = big; _ = sec; _ = u;
        return (b.Build(), b);
    }

    [Fact]
    public void ParsesEveryKind()
    {
        var (blob, _) = Sample();
        var f = new BtfTypeFinder(blob, "test");
        Assert.Equal(29, f.TypeCount);
        var task = Assert.IsType<KStructType>(f.FindType(TypeKind.Struct, "task_struct"));
        Assert.Equal(96UL, task.Size);
        Assert.False(task.IsIncomplete);
        Assert.True(task.TryFindMember("pid", out var pid, out var pidOff));
        Assert.Equal(64UL, pidOff);
        Assert.Equal("pid_t", pid.Type.Name);
        Assert.Equal(TypeKind.Integer, pid.Type.Resolve().Kind);
        Assert.True(((KIntegerType)pid.Type.Resolve()).IsSigned);
        Assert.True(task.TryFindMember("comm", out var comm, out _));
        var arr = Assert.IsType<KArrayType>(comm.Type);
        Assert.Equal(16UL, arr.Count);
        Assert.True(((KIntegerType)arr.Element).IsChar);
        Assert.Equal(16UL, arr.Size);
        // anonymous member
        Assert.True(task.TryFindMember("b_in_anon", out _, out var bOff));
        Assert.Equal(256UL + 32, bOff);
        // bitfields (kind_flag)
        Assert.True(task.TryFindMember("flag_b", out var fb, out var fbOff));
        Assert.Equal(5u, fb.BitSize);
        Assert.Equal(323UL, fbOff);
        // list_head complete definition wins over the FWD
        var list = Assert.IsType<KStructType>(f.FindType(TypeKind.Struct, "list_head"));
        Assert.Equal(16UL, list.Size);
        Assert.Equal("struct list_head *", list.Members[0].Type.DisplayName);
        // type tag is transparent; FWD is an incomplete struct
        Assert.True(task.TryFindMember("mm", out var mm, out _));
        Assert.Equal(TypeKind.Pointer, mm.Type.Kind);
        Assert.True(((KStructType)((KRefType)mm.Type).Target).IsIncomplete);
        // flexible array
        Assert.True(task.TryFindMember("tail", out var tail, out _));
        Assert.Equal(0UL, ((KArrayType)tail.Type).Count);
        // qualifiers
        Assert.True(task.TryFindMember("tgid", out var tgid, out _));
        Assert.Equal(TypeKind.Const, tgid.Type.Kind);
        Assert.Equal(4UL, tgid.Type.Size);
        Assert.Equal(TypeKind.Volatile, task.Members[0].Type.Kind);
        // enums
        Assert.True(f.TryFindEnumerator("TASK_INTERRUPTIBLE", out var ti));
        Assert.Equal(1L, ti);
        Assert.True(f.TryFindEnumerator("BIG_ONE", out var bigv));
        Assert.Equal(1L << 40, bigv);
        // functions, variables, floats, unions
        var fn = Assert.IsType<KFunctionType>(f.FindType(TypeKind.Function, "do_exit"));
        Assert.True(fn.IsVariadic);
        Assert.Single(fn.Parameters);
        Assert.Equal("int", fn.ReturnType.Name);
        Assert.Same(task, f.FindVariableType("init_task"));
        Assert.Equal(TypeKind.Float, f.FindType(TypeKind.Float, "double")!.Kind);
        Assert.True(((KStructType)f.FindType(TypeKind.Union, "u")!).IsUnion);
        Assert.Equal(TypeKind.Restrict, f.Get(29).Kind);
        Assert.Null(f.FindType(TypeKind.Struct, "nope"));
    }

    private static byte[] Patch(byte[] blob, int at, uint value) { var c = (byte[])blob.Clone(); BinaryPrimitives.WriteUInt32LittleEndian(c.AsSpan(at), value); return c; }

    public static IEnumerable<object[]> CorruptCases()
    {
        var (good, _) = Sample();
        yield return new object[] { "bad magic", Patch(good, 0, 0x1234) , 0L };
        yield return new object[] { "header length", Patch(good, 4, 9999999), 4L };
        yield return new object[] { "type section too long", Patch(good, 12, 0x7fffffff), 8L };
        yield return new object[] { "string section too long", Patch(good, 20, 0x7fffffff), 16L };
        yield return new object[] { "truncated", good[..100], -1L };
        yield return new object[] { "unknown kind", Patch(good, 24 + 4, 31u << 24), 28L };
        yield return new object[] { "name offset past strings", Patch(good, 24, 0xfffff), 24L };
        yield return new object[] { "reference past types", Patch(good, 24 + 4 * 16 + 12 + 8, 5000), -1L };
    }

    [Theory]
    [MemberData(nameof(CorruptCases))]
    public void CorruptBlobsAreRejectedWithOffset(string what, byte[] blob, long offset)
    {
        var ex = Assert.Throws<KdumpException>(() => new BtfReader(blob));
        Assert.Equal("BtfCorrupt", ex.ErrorId);
        Assert.Contains("offset 0x", ex.Message);
        if (offset >= 0) Assert.Equal(offset, Convert.ToInt64(ex.Target));
        _ = what;
    }

    [Fact]
    public void ReferenceCyclesAreRejected()
    {
        var b = new BtfBuilder();
        b.Int("int", 4);
        b.Ptr(3);            // 2 -> 3
        b.Typedef("t", 2);   // 3 -> 2 : loop
        var ex = Assert.Throws<KdumpException>(() => new BtfReader(b.Build()));
        Assert.Equal("BtfCorrupt", ex.ErrorId);
        Assert.Contains("refers to itself", ex.Message);
    }

    [Fact]
    public void LargeBlobParsesQuickly()
    {
        var b = new BtfBuilder();
        int i = b.Int("int", 4, true);
        for (int k = 0; k < 60_000; k++)
        {
            int p = b.Ptr(b.NextId + 1);
            b.Struct($"s{k}", 16, ("a", i, 0, 0), ("b", i, 32, 0), ("next", p, 64, 0));
        }
        var blob = b.Build();
        var f = new BtfTypeFinder(blob, "big");
        var last = Assert.IsType<KStructType>(f.FindType(TypeKind.Struct, "s59999"));
        Assert.Equal(3, last.Members.Count);
        Assert.NotNull(f.FindType(TypeKind.Struct, "s0"));
    }
}
