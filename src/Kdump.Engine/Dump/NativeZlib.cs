using System.Runtime.InteropServices;

namespace Kdump.Engine.Dump;

/// <summary>
/// zlib pages through the system's libz with one inflate state per thread, reset between pages (inflateReset)
/// instead of set up and torn down per page as a new ZLibStream does. Used only where the z_stream layout is
/// known (64-bit Linux and macOS: LP64) and libz loads; elsewhere <see cref="Available"/> is false and the caller
/// uses System.IO.Compression. Never throws on bad data.
/// </summary>
internal static unsafe class NativeZlib
{
    private const int ZOk = 0, ZStreamEnd = 1, ZNeedDict = 2, ZBufError = -5, ZFinish = 4;

    /// <summary>zlib's z_stream on LP64 (uLong is 64-bit).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ZStream
    {
        public byte* NextIn;
        public uint AvailIn;
        public nuint TotalIn;
        public byte* NextOut;
        public uint AvailOut;
        public nuint TotalOut;
        public byte* Msg;
        public void* State;
        public void* ZAlloc, ZFree, Opaque;
        public int DataType;
        public nuint Adler, Reserved;
    }

    private static readonly delegate* unmanaged<ZStream*, int, byte*, int, int> s_inflateInit2;
    private static readonly delegate* unmanaged<ZStream*, int> s_inflateReset;
    private static readonly delegate* unmanaged<ZStream*, int, int> s_inflate;
    private static readonly delegate* unmanaged<ZStream*, int> s_inflateEnd;
    private static readonly byte* s_version;

    public static bool Available { get; }

    static NativeZlib()
    {
        try
        {
            if (!Environment.Is64BitProcess || !(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())) return;
            if (!NativeLibrary.TryLoad(OperatingSystem.IsMacOS() ? "libz.1.dylib" : "libz.so.1", out var lib)) return;
            if (!NativeLibrary.TryGetExport(lib, "inflateInit2_", out var init) || !NativeLibrary.TryGetExport(lib, "inflateReset", out var reset) ||
                !NativeLibrary.TryGetExport(lib, "inflate", out var inflate) || !NativeLibrary.TryGetExport(lib, "inflateEnd", out var end) ||
                !NativeLibrary.TryGetExport(lib, "zlibVersion", out var version))
                return;
            s_inflateInit2 = (delegate* unmanaged<ZStream*, int, byte*, int, int>)init;
            s_inflateReset = (delegate* unmanaged<ZStream*, int>)reset;
            s_inflate = (delegate* unmanaged<ZStream*, int, int>)inflate;
            s_inflateEnd = (delegate* unmanaged<ZStream*, int>)end;
            s_version = ((delegate* unmanaged<byte*>)version)();
            if (s_version is null || s_version[0] != (byte)'1') return; // the z_stream layout above is zlib 1.x's
            using var probe = new Inflater();
            Available = probe.Ok;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or InvalidOperationException) { }
    }

    /// <summary>One thread's inflate state; freed by its finalizer when the thread is gone.</summary>
    private sealed class Inflater : IDisposable
    {
        private ZStream* _z;
        public bool Ok { get; }

        public Inflater()
        {
            _z = (ZStream*)NativeMemory.AllocZeroed((nuint)sizeof(ZStream));
            Ok = s_inflateInit2(_z, 15, s_version, sizeof(ZStream)) == ZOk;
            if (!Ok) { NativeMemory.Free(_z); _z = null; }
        }

        public string? Inflate(ReadOnlySpan<byte> src, Span<byte> dst)
        {
            var z = _z;
            if (s_inflateReset(z) != ZOk) return "zlib inflateReset failed";
            fixed (byte* pi = src)
            fixed (byte* po = dst)
            {
                z->NextIn = pi; z->AvailIn = (uint)src.Length;
                z->NextOut = po; z->AvailOut = (uint)dst.Length;
                int rc = s_inflate(z, ZFinish);
                int produced = dst.Length - (int)z->AvailOut;
                z->NextIn = null; z->NextOut = null;
                if (rc == ZStreamEnd) return produced == dst.Length ? null : $"zlib data gave {produced} bytes, not {dst.Length}";
                if (rc is ZOk or ZBufError)
                    return z->AvailOut == 0 ? $"zlib data holds more than {dst.Length} bytes" : $"zlib data ends early (gave {produced} bytes, not {dst.Length})";
                return rc == ZNeedDict ? "zlib data needs a preset dictionary" : "zlib data is malformed";
            }
        }

        private void Free()
        {
            if (_z is null) return;
            s_inflateEnd(_z);
            NativeMemory.Free(_z);
            _z = null;
        }

        public void Dispose() { Free(); GC.SuppressFinalize(this); }
        ~Inflater() => Free();
    }

    [ThreadStatic] private static Inflater? t_inflater;

    /// <summary>Inflates a zlib stream into all of <paramref name="dst"/>; null or the reason it failed.</summary>
    public static string? Inflate(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        var inf = t_inflater ??= new Inflater();
        if (!inf.Ok) { t_inflater = null; return "zlib inflateInit failed"; }
        return inf.Inflate(src, dst);
    }
}
