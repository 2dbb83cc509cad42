package dev.softmaxbackward.cuda;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

/**
 * Addresses of JCuda handles and the alignment rule of the device-resident API.
 *
 * <p>JCuda keeps a handle's address and a pointer's byte offset in protected accessors; they are read
 * through method handles (JCuda is on the class path, see docs/cuda-backend.md, so its packages are
 * open to this code).
 */
final class DevicePointers {
    private static final MethodHandle NATIVE_POINTER;
    private static final MethodHandle BYTE_OFFSET;

    static {
        try {
            MethodHandles.Lookup handles = MethodHandles.privateLookupIn(NativePointerObject.class, MethodHandles.lookup());
            NATIVE_POINTER = handles.findVirtual(NativePointerObject.class, "getNativePointer",
                    MethodType.methodType(long.class));
            MethodHandles.Lookup pointers = MethodHandles.privateLookupIn(Pointer.class, MethodHandles.lookup());
            BYTE_OFFSET = pointers.findVirtual(Pointer.class, "getByteOffset", MethodType.methodType(long.class));
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private DevicePointers() {}

    /** The address a handle stands for: its native pointer plus, for a Pointer, its byte offset. */
    static long address(NativePointerObject p) {
        if (p == null) {
            return 0;
        }
        try {
            long base = (long) NATIVE_POINTER.invokeExact(p);
            return p instanceof Pointer q ? base + (long) BYTE_OFFSET.invokeExact(q) : base;
        } catch (Throwable t) {
            throw new IllegalStateException("cannot read the address of " + p, t);
        }
    }

    /**
     * Rejects a null address and one not aligned to {@code alignment} bytes. A misaligned element
     * access would raise CUDA_ERROR_MISALIGNED_ADDRESS, a sticky error that ends the backend for the
     * process; the 16-byte loads need no more than this (each row's head up to the first 16-byte
     * boundary is read with scalar loads, and the output sweep uses scalars when y, g and gradIn are
     * aligned differently). Takes CUdeviceptr, the callers' own type: a wider parameter type would
     * make the verifier load JCuda's classes with CudaBackend, before any probe (LazyProbingTest).
     */
    static void requireAligned(CUdeviceptr p, String name, int alignment, String why) {
        long address = address(p);
        if (address == 0) {
            throw new IllegalArgumentException(name + " is a null device pointer (address 0x0)");
        }
        if (Long.remainderUnsigned(address, alignment) != 0) {
            throw new IllegalArgumentException(name + " address 0x" + Long.toHexString(address)
                    + " is not aligned to " + alignment + " bytes (" + why + ")");
        }
    }
}
